// The elementwise helpers' entries: sizes checked once, then the CPU body
// (elementwise_cpu.cpp) or the CUDA body (elementwise_cuda.cu).
#include "kernels/elementwise/elementwise.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(axpy)
DG_OP_BODIES(scale)
DG_OP_BODIES(copy)
DG_OP_BODIES(record_nonfinite)
DG_OP_BODIES(count_step)

void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y) {
  DG_CHECK(x.numel() == y.numel(), "axpy: x ", x.shape.str(), " vs y ", y.shape.str());
  DG_DISPATCH(ctx, axpy(ctx, alpha, x, y));
}

void scale(Context& ctx, Tensor x, float alpha) {
  DG_DISPATCH(ctx, scale(ctx, x, alpha));
}

void copy(Context& ctx, const Tensor& src, Tensor dst) {
  DG_CHECK(src.numel() == dst.numel(), "copy: src ", src.shape.str(), " vs dst ", dst.shape.str());
  DG_DISPATCH(ctx, copy(ctx, src, dst));
}

void record_nonfinite(Context& ctx, const Tensor& values, StepIndex step, Tensor first_bad) {
  DG_CHECK(first_bad.data && first_bad.numel() >= 1, "record_nonfinite: first_bad must hold one value");
  DG_CHECK(step.done != nullptr || step.index >= 0, "record_nonfinite: the step index counts from 0, got ", step.index);
  DG_DISPATCH(ctx, record_nonfinite(ctx, values, step, first_bad));
}

void count_step(Context& ctx, int64_t* count) {
  DG_CHECK(count != nullptr, "count_step: no counter");
  DG_DISPATCH(ctx, count_step(ctx, count));
}

// The counter's 8 bytes seen as two floats: Context copies tensors, bit for bit.
static Tensor counter_view(const int64_t* count) {
  static_assert(sizeof(int64_t) == 2 * sizeof(float));
  Tensor t;
  t.data = reinterpret_cast<float*>(const_cast<int64_t*>(count));
  t.shape = Shape{2};
  return t;
}

int64_t* alloc_step_counter(Context& ctx, int64_t value) {
  Tensor t = ctx.alloc({2});  // 256-byte aligned (the arena's alignment)
  int64_t* count = reinterpret_cast<int64_t*>(t.data);
  set_step_counter(ctx, count, value);
  return count;
}

void set_step_counter(Context& ctx, int64_t* count, int64_t value) {
  Tensor t = counter_view(count);
  t.device = ctx.device();
  ctx.upload(t, reinterpret_cast<const float*>(&value));
}

int64_t read_step_counter(Context& ctx, const int64_t* count) {
  Tensor t = counter_view(count);
  t.device = ctx.device();
  int64_t value = 0;
  ctx.download(t, reinterpret_cast<float*>(&value));
  return value;
}

}  // namespace dg
