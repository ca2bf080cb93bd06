// Forward-only image ops of the feature networks (Inception-v3 FID, DESIGN §7): pooling,
// bilinear resize, 8-bit quantization and channel concatenation.
#pragma once
#include "kernels/op.h"

namespace dg {

struct PoolGeom {
  int kernel = 3;
  int stride = 1;
  int padding = 0;  // at most kernel / 2
};
int pool_out_size(int in, PoolGeom g);
// x (N, C, H, W) -> y (N, C, Ho, Wo): the max over each window (padding never wins).
void max_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y);
// ... the mean over each window's pixels inside the image (PyTorch's count_include_pad=False).
void avg_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y);
// x (N, C, H, W) -> y (N, C, Ho, Wo): PyTorch's interpolate(mode="bilinear",
// align_corners=False), no antialiasing.
void resize_bilinear(Context& ctx, const Tensor& x, Tensor y);
// Images in [-1, 1] to the nearest of the 256 levels an 8-bit PNG stores, still in [-1, 1]:
// y = round((clamp(x, -1, 1) + 1) * 127.5) / 127.5 - 1. y may be x.
void quantize_8bit(Context& ctx, const Tensor& x, Tensor y);
// dst[:, c0 : c0 + src.C] = src, for src (N, Cs, H, W) and dst (N, Cd, H, W): a channel
// concatenation, one piece at a time.
void copy_channels(Context& ctx, const Tensor& src, Tensor dst, int c0);

}  // namespace dg
