// Per-output-element math of the forward-only image ops of the feature networks (pooling,
// bilinear resize, 8-bit quantization; image_ops.h), shared by the CPU bodies
// (image_ops_cpu.cpp) and the CUDA kernels (image_ops_cuda.cu). `plane` is one
// (H, W) channel of one image.
#pragma once
#include <cmath>

#include "kernels/host_device.h"

namespace dg::image {

struct Window {
  int H, W;            // input plane
  int kernel, stride, padding;
};

// The max over the window of output pixel (oh, ow); padded pixels never win.
DG_HD float max_pool_at(const float* plane, const Window& g, int oh, int ow) {
  const int h0 = oh * g.stride - g.padding, w0 = ow * g.stride - g.padding;
  float m = -INFINITY;
  for (int h = h0 < 0 ? 0 : h0; h < h0 + g.kernel && h < g.H; h++)
    for (int w = w0 < 0 ? 0 : w0; w < w0 + g.kernel && w < g.W; w++) m = plane[h * g.W + w] > m ? plane[h * g.W + w] : m;
  return m;
}

// The mean over the window's pixels that lie inside the image (PyTorch's
// count_include_pad=False: a corner window of a 3x3 pool with padding 1 averages 4 pixels).
DG_HD float avg_pool_at(const float* plane, const Window& g, int oh, int ow) {
  const int h0 = oh * g.stride - g.padding, w0 = ow * g.stride - g.padding;
  float sum = 0.0f;
  int count = 0;
  for (int h = h0 < 0 ? 0 : h0; h < h0 + g.kernel && h < g.H; h++)
    for (int w = w0 < 0 ? 0 : w0; w < w0 + g.kernel && w < g.W; w++) {
      sum += plane[h * g.W + w];
      count++;
    }
  return sum / float(count);
}

// Bilinear source position of output index `o` along an axis of `in` -> `out` pixels, as
// PyTorch's interpolate(mode="bilinear", align_corners=False): src = (o + 0.5) * in/out - 0.5,
// clamped at 0; i0 = floor(src), i1 = i0 + 1 except at the last pixel; weight of i1 = src - i0.
struct Tap {
  int i0, i1;
  float w1;
};
DG_HD Tap bilinear_tap(int o, int in, int out) {
  const float scale = float(in) / float(out);
  float src = scale * (float(o) + 0.5f) - 0.5f;
  if (src < 0.0f) src = 0.0f;
  Tap t;
  t.i0 = int(src);
  t.i1 = t.i0 < in - 1 ? t.i0 + 1 : t.i0;
  t.w1 = src - float(t.i0);
  return t;
}

DG_HD float bilinear_at(const float* plane, int H, int W, int Ho, int Wo, int oh, int ow) {
  const Tap th = bilinear_tap(oh, H, Ho), tw = bilinear_tap(ow, W, Wo);
  const float top = (1.0f - tw.w1) * plane[th.i0 * W + tw.i0] + tw.w1 * plane[th.i0 * W + tw.i1];
  const float bottom = (1.0f - tw.w1) * plane[th.i1 * W + tw.i0] + tw.w1 * plane[th.i1 * W + tw.i1];
  return (1.0f - th.w1) * top + th.w1 * bottom;
}

// x in [-1, 1] -> the nearest of the 256 levels an 8-bit PNG stores (as dgtrain's sample
// grids round them: level = round((x + 1) * 127.5)), back in [-1, 1].
DG_HD float quantize_8bit_at(float x) {
  float level = (x + 1.0f) * 127.5f;
  level = level < 0.0f ? 0.0f : level > 255.0f ? 255.0f : level;
  return floorf(level + 0.5f) / 127.5f - 1.0f;
}

}  // namespace dg::image
