// SVHN "cropped digits" (train_32x32.mat, test_32x32.mat, extra_32x32.mat): a MAT-file
// (see mat_file.h) holding X, uint8 images of 32 x 32 x 3 x N in column-major order (so
// X(row, col, channel, n)), and y, N x 1 labels 1..10 where 10 stands for the digit 0.
#pragma once
#include <string>

#include "data/image_set.h"

namespace dg::data {

// Images from X (H x W x C x N, C = 1 or 3; any H, W), labels from y when present,
// mapped to 0..9 (10 -> 0). y may be stored as any numeric type but must hold integers.
ImageSet read_svhn_mat(const std::string& path);

}  // namespace dg::data
