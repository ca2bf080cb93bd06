// Adam over a whole flat parameter buffer in one launch, torch.optim.Adam's arithmetic
// (engine/cpu/adam.cpp): the bias corrections come from adam_scalars (engine/op_checks.h).
#include <cmath>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_ops.h"
#include "engine/op_checks.h"

namespace dg::cuda {

static __global__ void adam_kernel(float* p, const float* grad, float* m, float* v, int64_t n, float beta1,
                                   float beta2, float eps, float weight_decay, float step_size, float bias2_sqrt) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = grad[i] + weight_decay * p[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (sqrtf(vi) / bias2_sqrt + eps);
  }
}

void adam_step(Context& ctx, const AdamConfig& cfg, int64_t step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq) {
  check_adam_args(params, grads, exp_avg, exp_avg_sq, step);
  const int64_t n = params.numel();
  const AdamScalars k = adam_scalars(cfg, step);
  adam_kernel<<<blocks_for(n, 256), 256, 0, ctx.cuda().stream>>>(params.data, grads.data, exp_avg.data,
                                                                 exp_avg_sq.data, n, cfg.beta1, cfg.beta2, cfg.eps,
                                                                 cfg.weight_decay, k.step_size, k.bias2_sqrt);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
