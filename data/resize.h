// Bilinear resampling of one image plane, the align_corners=false convention of PyTorch's
// F.interpolate(mode="bilinear", antialias=False): output pixel i samples the source at
// (i + 0.5) * in/out - 0.5, clamped at 0, between its two neighbours (the upper one
// clamped to the last row/column). Shared by the folder reader (crop + resize at read
// time) and by preprocess (resize to the model's size S).
#pragma once
#include <cstddef>
#include <cstdint>

namespace dg::data {

// src sample (y, x) is src[y * row_stride + x * pixel_stride], for 0 <= y < in_h,
// 0 <= x < in_w, so an interleaved (HWC) image or a window of a larger one is read in
// place. Writes out_h x out_w floats in [0, 255], row-major. Every size must be at least 1
// (DataError otherwise).
void resize_bilinear_plane(const uint8_t* src, int in_h, int in_w, ptrdiff_t row_stride,
                           ptrdiff_t pixel_stride, int out_h, int out_w, float* out);

}  // namespace dg::data
