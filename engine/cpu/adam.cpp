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
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelMinWork)
  for (int64_t i = 0; i < n; i++) {
    float g = grads.data[i] + cfg.weight_decay * params.data[i];
    float m = cfg.beta1 * exp_avg.data[i] + (1.0f - cfg.beta1) * g;
    float v = cfg.beta2 * exp_avg_sq.data[i] + (1.0f - cfg.beta2) * g * g;
    exp_avg.data[i] = m;
    exp_avg_sq.data[i] = v;
    params.data[i] -= step_size * m / (std::sqrt(v) / bias2_sqrt + cfg.eps);
  }
}

}  // namespace dg
