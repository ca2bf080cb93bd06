// Random fills and small elementwise helpers on the CPU.
#include <algorithm>
#include <cmath>

#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/philox.h"
#include "engine/cpu/parallel.h"

// fill_normal spells mean + std * z with rng::add/mul so the CUDA twin can round identically.

namespace dg {

void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream, uint64_t offset) {
  DG_DISPATCH_CUDA(ctx, fill_normal(ctx, t, mean, std, seed, stream, offset));
  const int64_t n = t.numel();
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelMinWork)
  for (int64_t i = 0; i < n; i++) t.data[i] = rng::add(mean, rng::mul(std, rng::normal_at(seed, stream, offset + uint64_t(i))));
}

void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y) {
  DG_DISPATCH_CUDA(ctx, axpy(ctx, alpha, x, y));
  DG_CHECK(x.numel() == y.numel(), "axpy: x ", x.shape.str(), " vs y ", y.shape.str());
  for (int64_t i = 0; i < x.numel(); i++) y.data[i] += alpha * x.data[i];
}

void copy(Context& ctx, const Tensor& src, Tensor dst) {
  DG_DISPATCH_CUDA(ctx, copy(ctx, src, dst));
  DG_CHECK(src.numel() == dst.numel(), "copy: src ", src.shape.str(), " vs dst ", dst.shape.str());
  std::copy(src.data, src.data + src.numel(), dst.data);
}

void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad) {
  DG_DISPATCH_CUDA(ctx, record_nonfinite(ctx, values, step, first_bad));
  if (first_bad.data[0] != 0.0f) return;
  for (int64_t i = 0; i < values.numel(); i++)
    if (!std::isfinite(values.data[i])) {
      first_bad.data[0] = float(step + 1);  // exact for steps below 2^24
      return;
    }
}

void scale(Context& ctx, Tensor x, float alpha) {
  DG_DISPATCH_CUDA(ctx, scale(ctx, x, alpha));
  for (int64_t i = 0; i < x.numel(); i++) x.data[i] *= alpha;
}

}  // namespace dg
