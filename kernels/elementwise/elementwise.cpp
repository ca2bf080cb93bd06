// The elementwise helpers' entries: sizes checked once, then the CPU body
// (elementwise_cpu.cpp) or the CUDA body (elementwise_cuda.cu).
#include "kernels/elementwise/elementwise.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(axpy)
DG_OP_BODIES(scale)
DG_OP_BODIES(copy)
DG_OP_BODIES(record_nonfinite)

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

void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad) {
  DG_CHECK(first_bad.data && first_bad.numel() >= 1, "record_nonfinite: first_bad must hold one value");
  DG_DISPATCH(ctx, record_nonfinite(ctx, values, step, first_bad));
}

}  // namespace dg
