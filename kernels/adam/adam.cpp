// adam_step's entry: buffer sizes and the step checked, the per-step scalars computed once,
// then the CPU body (adam_cpu.cpp) or the one-launch CUDA kernel (adam_cuda.cu).
#include "kernels/adam/adam.h"

#include "engine/dispatch.h"
#include "kernels/adam/adam_math.h"

namespace dg {
namespace cpu {
void adam_step(Context& ctx, const adam::Scalars& k, Tensor params, const Tensor& grads, Tensor exp_avg,
               Tensor exp_avg_sq);
}
namespace cuda {
void adam_step(Context& ctx, const adam::Scalars& k, Tensor params, const Tensor& grads, Tensor exp_avg,
               Tensor exp_avg_sq);
}

void adam_step(Context& ctx, const AdamConfig& cfg, int64_t step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq) {
  const int64_t n = params.numel();
  DG_CHECK(grads.numel() == n && exp_avg.numel() == n && exp_avg_sq.numel() == n,
           "adam_step: buffers differ in size: params ", n, ", grads ", grads.numel(), ", exp_avg ",
           exp_avg.numel(), ", exp_avg_sq ", exp_avg_sq.numel());
  DG_CHECK(step >= 1, "adam_step: step counts from 1, got ", step);
  const adam::Scalars k = adam::scalars(cfg, step);
  DG_DISPATCH(ctx, adam_step(ctx, k, params, grads, exp_avg, exp_avg_sq));
}

}  // namespace dg
