// IDX files, the format of MNIST and Fashion-MNIST: a big-endian header (magic 0x0000TTNN,
// TT = element type, 0x08 for uint8; NN = number of dimensions; then NN uint32 sizes)
// followed by the elements in row-major order. Read raw or gzip-compressed (".gz"): zlib's
// gzread passes an uncompressed file through unchanged, so one path serves both.
#pragma once
#include <string>

#include "data/image_set.h"

namespace dg::data {

// Images from an IDX uint8 3-d file (magic 0x00000803: count x rows x cols), one channel,
// and, when labels_path is not empty, their labels from an IDX uint8 1-d file (magic
// 0x00000801) that must hold exactly as many entries.
ImageSet read_idx(const std::string& images_path, const std::string& labels_path = "");

// The labels file that belongs to an images file by the MNIST naming convention
// ("train-images-idx3-ubyte[.gz]" -> "train-labels-idx1-ubyte[.gz]", also the
// "train-images.idx3-ubyte" spelling), or "" when no such file exists.
std::string idx_labels_path_for(const std::string& images_path);

// True when a file name looks like IDX images ("...idx3-ubyte" or "...idx3-ubyte.gz").
bool is_idx_images_name(const std::string& file_name);

}  // namespace dg::data
