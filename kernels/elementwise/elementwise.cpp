// The elementwise helpers' entries: sizes checked once, then the CPU body
// (elementwise_cpu.cpp) or the CUDA body (elementwise_cuda.cu).
#include "kernels/elementwise/elementwise.h"

#include "engine/dispatch.h"

namespace dg {
namespace cpu {
void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y);
void scale(Context& ctx, Tensor x, float alpha);
void copy(Context& ctx, const Tensor& src, Tensor dst);
void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad);
}  // namespace cpu
namespace cuda {
void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y);
void scale(Context& ctx, Tensor x, float alpha);
void copy(Context& ctx, const Tensor& src, Tensor dst);
void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad);
}  // namespace cuda

void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y) {
  DG_CHECK(x.numel() == y.numel(), "axpy: x ", x.shape.str(), " vs y ", y.shape.str());
  DG_DISPATCH_CUDA(ctx, axpy(ctx, alpha, x, y));
  cpu::axpy(ctx, alpha, x, y);
}

void scale(Context& ctx, Tensor x, float alpha) {
  DG_DISPATCH_CUDA(ctx, scale(ctx, x, alpha));
  cpu::scale(ctx, x, alpha);
}

void copy(Context& ctx, const Tensor& src, Tensor dst) {
  DG_CHECK(src.numel() == dst.numel(), "copy: src ", src.shape.str(), " vs dst ", dst.shape.str());
  DG_DISPATCH_CUDA(ctx, copy(ctx, src, dst));
  cpu::copy(ctx, src, dst);
}

void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad) {
  DG_CHECK(first_bad.data && first_bad.numel() >= 1, "record_nonfinite: first_bad must hold one value");
  DG_DISPATCH_CUDA(ctx, record_nonfinite(ctx, values, step, first_bad));
  cpu::record_nonfinite(ctx, values, step, first_bad);
}

}  // namespace dg
