// One entry point from a user's --data / --format to an ImageSet: resolves data set
// names, tells formats apart by file names and contents, and calls the right reader.
#pragma once
#include <string>

#include "data/image_set.h"

namespace dg::data {

enum class Format { automatic, idx, cifar10, cifar100, svhn, folder };

// "auto", "idx", "cifar10", "cifar100", "svhn", "folder"; DataError listing them otherwise.
Format parse_format(const std::string& name);
const char* format_name(Format f);

// path_or_name:
//   "fashion-mnist"  the training set from Debian's dataset-fashion-mnist
//                    (/usr/share/datasets/fashion-mnist), images and labels
//   "mnist"          /usr/share/datasets/mnist, where present (no Debian package ships it)
//   a folder         with Format::automatic, told by what it holds: IDX images
//                    (*idx3-ubyte[.gz], the train-* one if several) -> idx;
//                    data_batch_*.bin -> cifar10; train.bin -> cifar100; *.mat -> svhn
//                    (train_32x32.mat if several); anything else -> an image folder
//   a file           with Format::automatic, told by its name (*idx3-ubyte[.gz],
//                    data_batch_*.bin / test_batch.bin, train.bin / test.bin, *.mat),
//                    else by its first bytes (IDX magic, gzip, MAT-file header)
// The two names win over folders of the same name: write "./mnist" for a local folder.
// folder_size: the side images of a folder are cropped and resized to (read_image_folder.h).
ImageSet load_dataset(const std::string& path_or_name, Format format, int folder_size);

}  // namespace dg::data
