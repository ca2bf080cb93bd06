// Adam's arithmetic, shared by the CPU body and the CUDA kernel (torch.optim.Adam's order):
//   g  = grad + weight_decay * p
//   m  = beta1 m + (1 - beta1) g
//   v  = beta2 v + (1 - beta2) g^2
//   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Each operation rounded once (kernels/float_ops.h): the backends agree bit for bit.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/adam/adam.h"
#include "kernels/float_ops.h"

namespace dg::adam {

// The learning rate of 0-based step `index`: lr, or with decay_steps lr * (1 - index / decay_steps).
DG_HD float lr_at(const AdamConfig& cfg, int64_t index) {
  if (cfg.decay_steps <= 0) return cfg.lr;
  return fp::mul(cfg.lr, float(fp::dsub(1.0, fp::ddiv(double(index), double(cfg.decay_steps)))));
}

// The per-step scalars of 0-based step `index` (t = index + 1), computed in double then
// rounded, as PyTorch: lr / (1 - beta1^t) and sqrt(1 - beta2^t). Computed by the kernel itself
// when the step is read on the device, hence fp::powi rather than pow: the same bits anywhere.
struct Scalars {
  float beta1, beta2, eps, weight_decay;
  float step_size, bias2_sqrt;
};
DG_HD Scalars scalars(const AdamConfig& cfg, int64_t index) {
  const int64_t t = index + 1;
  const float bias1 = fp::sub(1.0f, float(fp::powi(double(cfg.beta1), t)));
  return {cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay, fp::div(lr_at(cfg, index), bias1),
          float(fp::dsqrt(fp::dsub(1.0, fp::powi(double(cfg.beta2), t))))};
}

// One parameter's step: updates p, m and v in place.
DG_HD void update(const Scalars& k, float grad, float& p, float& m, float& v) {
  using namespace fp;
  const float g = add(grad, mul(k.weight_decay, p));
  m = add(mul(k.beta1, m), mul(sub(1.0f, k.beta1), g));
  v = add(mul(k.beta2, v), mul(mul(sub(1.0f, k.beta2), g), g));
  p = sub(p, div(mul(k.step_size, m), add(div(sqrt(v), k.bias2_sqrt), k.eps)));
}

}  // namespace dg::adam
