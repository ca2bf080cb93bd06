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

void check_pool(const Tensor& x, PoolGeom g, const Tensor& y, const char* op) {
  DG_CHECK(x.shape.rank == 4 && y.shape.rank == 4, op, ": x and y must be (N, C, H, W), got ", x.shape.str(), ", ",
           y.shape.str());
  DG_CHECK(g.kernel >= 1 && g.stride >= 1 && g.padding >= 0 && 2 * g.padding <= g.kernel, op, ": bad window: kernel ",
           g.kernel, " stride ", g.stride, " padding ", g.padding, " (padding at most half the kernel)");
  DG_CHECK(y.n() == x.n() && y.c() == x.c() && y.h() == pool_out_size(x.h(), g) && y.w() == pool_out_size(x.w(), g),
           op, ": a ", g.kernel, "x", g.kernel, " window with stride ", g.stride, " padding ", g.padding, " maps ",
           x.shape.str(), " to (", x.n(), ", ", x.c(), ", ", pool_out_size(x.h(), g), ", ", pool_out_size(x.w(), g),
           "), not ", y.shape.str());
}

void check_copy_channels(const Tensor& src, const Tensor& dst, int c0) {
  DG_CHECK(src.shape.rank == 4 && dst.shape.rank == 4 && src.n() == dst.n() && src.h() == dst.h() &&
               src.w() == dst.w() && c0 >= 0 && c0 + src.c() <= dst.c(),
           "copy_channels: ", src.shape.str(), " does not fit into ", dst.shape.str(), " at channel ", c0);
}

}  // namespace dg
