// Small elementwise helpers over flat tensors (any shape; element counts must agree).
#pragma once
#include <cstdint>

#include "kernels/op.h"
#include "kernels/step_index.h"

namespace dg {

// y = alpha * x + y
void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y);
void scale(Context& ctx, Tensor x, float alpha);
// dst = src (same number of elements), on the device.
void copy(Context& ctx, const Tensor& src, Tensor dst);
// If any value of `values` is NaN or Inf and first_bad[0] is still 0, sets first_bad[0] =
// step.value() + 1 (exact below 2^24 steps). Lets a run name the exact step a loss went bad
// without reading it back each step.
void record_nonfinite(Context& ctx, const Tensor& values, StepIndex step, Tensor first_bad);
// *count += 1, in the order of the context's stream: the step counter of StepIndex::counted,
// advanced by the step itself (a replayed CUDA graph advances it too). `count` is memory of the
// context's device (the arena's).
void count_step(Context& ctx, int64_t* count);
// Such a counter from ctx's arena holding `value`, and its value set or read: synchronous (setup,
// resume, tests; never inside a step).
int64_t* alloc_step_counter(Context& ctx, int64_t value);
void set_step_counter(Context& ctx, int64_t* count, int64_t value);
int64_t read_step_counter(Context& ctx, const int64_t* count);

}  // namespace dg
