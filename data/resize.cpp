#include "data/resize.h"

#include <algorithm>
#include <vector>

#include "data/data_error.h"

namespace dg::data {
namespace {

// For one axis: the two source indices and the weight of the second, per output index.
struct AxisTaps {
  std::vector<int> lo, hi;
  std::vector<float> frac;
};

AxisTaps axis_taps(int in, int out) {
  AxisTaps t;
  t.lo.resize(out);
  t.hi.resize(out);
  t.frac.resize(out);
  // Computed in float, as PyTorch does for float tensors; results agree with it up to
  // float rounding (exactly where the weights are binary fractions, as in 2x resizes).
  const float scale = float(in) / float(out);
  for (int i = 0; i < out; i++) {
    float src = std::max((float(i) + 0.5f) * scale - 0.5f, 0.0f);
    int lo = std::min(int(src), in - 1);
    t.lo[i] = lo;
    t.hi[i] = std::min(lo + 1, in - 1);
    t.frac[i] = src - float(lo);
  }
  return t;
}

}  // namespace

void resize_bilinear_plane(const uint8_t* src, int in_h, int in_w, ptrdiff_t row_stride,
                           ptrdiff_t pixel_stride, int out_h, int out_w, float* out) {
  if (in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1)
    data_fail("resize_bilinear_plane", "cannot resize ", in_h, "x", in_w, " to ", out_h, "x", out_w);
  AxisTaps ty = axis_taps(in_h, out_h), tx = axis_taps(in_w, out_w);
  for (int y = 0; y < out_h; y++) {
    const uint8_t* row0 = src + ty.lo[y] * row_stride;
    const uint8_t* row1 = src + ty.hi[y] * row_stride;
    const float fy = ty.frac[y];
    for (int x = 0; x < out_w; x++) {
      const ptrdiff_t x0 = tx.lo[x] * pixel_stride, x1 = tx.hi[x] * pixel_stride;
      const float fx = tx.frac[x];
      float top = (1.0f - fx) * float(row0[x0]) + fx * float(row0[x1]);
      float bottom = (1.0f - fx) * float(row1[x0]) + fx * float(row1[x1]);
      // A convex combination, but rounding could step a hair outside [0, 255].
      out[size_t(y) * out_w + x] = std::clamp((1.0f - fy) * top + fy * bottom, 0.0f, 255.0f);
    }
  }
}

}  // namespace dg::data
