// Adam on the CPU with torch.optim.Adam's arithmetic (non-fused, non-amsgrad):
//   g  = grad + weight_decay * p
//   m  = beta1 m + (1 - beta1) g
//   v  = beta2 v + (1 - beta2) g^2
//   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#include <cmath>

#include "engine/dispatch.h"
#include "engine/ops.h"

namespace dg {

void adam_step(Context& ctx, const AdamConfig& cfg, int64_t step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq) {
  DG_DISPATCH_CUDA(ctx, adam_step(ctx, cfg, step, params, grads, exp_avg, exp_avg_sq));
  const int64_t n = params.numel();
  DG_CHECK(grads.numel() == n && exp_avg.numel() == n && exp_avg_sq.numel() == n,
           "adam_step: buffers differ in size: params ", n, ", grads ", grads.numel(), ", exp_avg ",
           exp_avg.numel(), ", exp_avg_sq ", exp_avg_sq.numel());
  DG_CHECK(step >= 1, "adam_step: step counts from 1, got ", step);
  const float bias1 = 1.0f - float(std::pow(double(cfg.beta1), double(step)));
  const float bias2_sqrt = float(std::sqrt(1.0 - std::pow(double(cfg.beta2), double(step))));
  const float step_size = cfg.lr / bias1;
#pragma omp parallel for schedule(static)
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
