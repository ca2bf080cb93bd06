#include "engine/op_checks.h"

#include <cmath>

namespace dg {

void check_batchnorm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, const char* op) {
  DG_CHECK(x.shape.rank == 4, op, ": input must be (N, C, H, W), got ", x.shape.str());
  check_shape(gamma, {x.c()}, op);
  check_shape(beta, {x.c()}, op);
}

void check_adam_args(const Tensor& params, const Tensor& grads, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                     int64_t step) {
  const int64_t n = params.numel();
  DG_CHECK(grads.numel() == n && exp_avg.numel() == n && exp_avg_sq.numel() == n,
           "adam_step: buffers differ in size: params ", n, ", grads ", grads.numel(), ", exp_avg ",
           exp_avg.numel(), ", exp_avg_sq ", exp_avg_sq.numel());
  DG_CHECK(step >= 1, "adam_step: step counts from 1, got ", step);
}

AdamScalars adam_scalars(const AdamConfig& cfg, int64_t step) {
  const float bias1 = 1.0f - float(std::pow(double(cfg.beta1), double(step)));
  return {cfg.lr / bias1, float(std::sqrt(1.0 - std::pow(double(cfg.beta2), double(step))))};
}

}  // namespace dg
