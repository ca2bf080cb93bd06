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

LinearDims check_linear_args(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out, const char* op) {
  DG_CHECK(x.shape.rank >= 1 && x.n() > 0, op, ": input must be (N, ...), got ", x.shape.str());
  DG_CHECK(w.shape.rank == 2, op, ": weight must be (O, I), got ", w.shape.str());
  const int N = x.n(), O = w.dim(0);
  const int64_t I = x.numel() / N;
  DG_CHECK(I == w.dim(1), op, ": input ", x.shape.str(), " has ", I, " features per sample, the weight ",
           w.shape.str(), " expects ", w.dim(1));
  DG_CHECK(b.data == nullptr || (b.shape.rank == 1 && b.dim(0) == O), op, ": bias ", b.shape.str(),
           " does not match the weight ", w.shape.str());
  check_shape(out, {N, O}, op);
  return {N, int(I), O};
}

void check_softmax_ce_args(const Tensor& logits, const Tensor& labels, const Tensor& loss, const Tensor& dlogits,
                           const Tensor& correct) {
  DG_CHECK(logits.shape.rank == 2 && logits.numel() > 0, "softmax_cross_entropy: logits must be (N, C), got ",
           logits.shape.str());
  DG_CHECK(labels.numel() == logits.dim(0), "softmax_cross_entropy: ", labels.numel(), " labels for ",
           logits.dim(0), " rows of logits");
  DG_CHECK(!loss.data || loss.numel() == 1, "softmax_cross_entropy: loss must have 1 element");
  DG_CHECK(!correct.data || correct.numel() == 1, "softmax_cross_entropy: correct must have 1 element");
  if (dlogits.data) check_shape(dlogits, logits.shape, "softmax_cross_entropy dlogits");
}

}  // namespace dg
