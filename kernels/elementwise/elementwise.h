// Small elementwise helpers over flat tensors (any shape; element counts must agree).
#pragma once
#include <cstdint>

#include "kernels/op.h"

namespace dg {

// y = alpha * x + y
void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y);
void scale(Context& ctx, Tensor x, float alpha);
// dst = src (same number of elements), on the device.
void copy(Context& ctx, const Tensor& src, Tensor dst);
// If any value of `values` is NaN or Inf and first_bad[0] is still 0, sets first_bad[0] =
// step + 1. Lets a run name the exact step a loss went bad without reading it back each step.
void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad);

}  // namespace dg
