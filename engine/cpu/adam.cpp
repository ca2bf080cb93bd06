// Adam on the CPU with torch.optim.Adam's arithmetic (non-fused, non-amsgrad):
//   g  = grad + weight_decay * p
//   m  = beta1 m + (1 - beta1) g
//   v  = beta2 v + (1 - beta2) g^2
//   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#include <cmath>

#include "engine/dispatch.h"
#include "engine/op_checks.h"
#include "engine/ops.h"
#include "engine/cpu/parallel.h"

namespace dg {

void adam_step(Context& ctx, const AdamConfig& cfg, int64_t step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq) {
  DG_DISPATCH_CUDA(ctx, adam_step(ctx, cfg, step, params, grads, exp_avg, exp_avg_sq));
  check_adam_args(params, grads, exp_avg, exp_avg_sq, step);
  const int64_t n = params.numel();
  const AdamScalars k = adam_scalars(cfg, step);
  const float step_size = k.step_size, bias2_sqrt = k.bias2_sqrt;
  const float weight_decay = cfg.weight_decay, beta1 = cfg.beta1, beta2 = cfg.beta2, eps = cfg.eps;
  float* __restrict p = params.data;
  float* __restrict m1 = exp_avg.data;
  float* __restrict m2 = exp_avg_sq.data;
  const float* __restrict gr = grads.data;
#pragma omp parallel for simd schedule(static) if (n >= cpu::kParallelMinWork)
  for (int64_t i = 0; i < n; i++) {
    float g = gr[i] + weight_decay * p[i];
    float m = beta1 * m1[i] + (1.0f - beta1) * g;
    float v = beta2 * m2[i] + (1.0f - beta2) * g * g;
    m1[i] = m;
    m2[i] = v;
    p[i] -= step_size * m / (std::sqrt(v) / bias2_sqrt + eps);
  }
}

}  // namespace dg
