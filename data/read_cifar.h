// CIFAR-10 and CIFAR-100 in their "binary version": fixed-size records, each a label
// (CIFAR-10: 1 byte, 0..9; CIFAR-100: 2 bytes, coarse 0..19 then fine 0..99) followed by a
// 32x32 RGB image stored as 1024 red, 1024 green, 1024 blue bytes -- already planar CHW.
#pragma once
#include <string>

#include "data/image_set.h"

namespace dg::data {

// path: one batch file (data_batch_N.bin, test_batch.bin), or a folder, from which all
// data_batch_*.bin files are read in name order (the training set).
ImageSet read_cifar10(const std::string& path);

// path: train.bin / test.bin, or a folder holding train.bin. Labels are the fine (0..99)
// ones; the coarse label is validated and dropped.
ImageSet read_cifar100(const std::string& path);

// True for "data_batch_*.bin" (the CIFAR-10 training batches).
bool is_cifar10_batch_name(const std::string& file_name);

}  // namespace dg::data
