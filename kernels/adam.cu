// Adam over a whole flat parameter buffer in one launch, torch.optim.Adam's arithmetic
// (engine/cpu/adam.cpp): the bias corrections are computed on the host in double.
#include <cmath>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_ops.h"

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
  const int64_t n = params.numel();
  DG_CHECK(grads.numel() == n && exp_avg.numel() == n && exp_avg_sq.numel() == n,
           "adam_step: buffers differ in size: params ", n, ", grads ", grads.numel(), ", exp_avg ",
           exp_avg.numel(), ", exp_avg_sq ", exp_avg_sq.numel());
  DG_CHECK(step >= 1, "adam_step: step counts from 1, got ", step);
  const float bias1 = 1.0f - float(std::pow(double(cfg.beta1), double(step)));
  const float bias2_sqrt = float(std::sqrt(1.0 - std::pow(double(cfg.beta2), double(step))));
  adam_kernel<<<blocks_for(n, 256), 256, 0, ctx.cuda().stream>>>(params.data, grads.data, exp_avg.data,
                                                                 exp_avg_sq.data, n, cfg.beta1, cfg.beta2, cfg.eps,
                                                                 cfg.weight_decay, cfg.lr / bias1, bias2_sqrt);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
