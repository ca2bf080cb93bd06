// The batchnorm entries: shapes checked once, then the CPU body (batchnorm_cpu.cpp) or the
// fused CUDA kernels (batchnorm_cuda.cu); the cuDNN alternative (batchnorm_cudnn.cu) on CUDA.
#include "kernels/batchnorm/batchnorm.h"

#include <algorithm>

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(batchnorm2d_forward_train)
DG_OP_BODIES(batchnorm2d_forward_eval)
DG_OP_BODIES(batchnorm2d_backward)
DG_OP_BODIES(cudnn_batchnorm_forward_train)  // (cuDNN's: its CPU twin is declared, never defined)
DG_OP_BODIES(cudnn_batchnorm_backward)

int batchnorm_cuda_splits(int N, int C, int64_t P) {
  constexpr int kSplitBelow = 128, kTargetBlocks = 256;
  constexpr int64_t kMinSliceValues = 256;
  if (C >= kSplitBelow) return 1;
  const int64_t want = (kTargetBlocks + C - 1) / C, most = int64_t(N) * P / kMinSliceValues;
  return int(std::max<int64_t>(1, std::min<int64_t>({want, most, int64_t(N)})));
}

// x (N, C, H, W); gamma, beta (C); `y` (y, dy or dx) like x.
static void check_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y, const char* op,
                       const char* what_y) {
  DG_CHECK(x.shape.rank == 4, op, ": input must be (N, C, H, W), got ", x.shape.str());
  check_shape(gamma, {x.c()}, op);
  check_shape(beta, {x.c()}, op);
  check_shape(y, x.shape, (std::string(op) + " " + what_y).c_str());
}

static void check_forward_train(const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                const Tensor& running_mean, const Tensor& running_var, const Tensor& y,
                                const char* op) {
  check_args(x, gamma, beta, y, op, "output");
  const int C = x.c();
  DG_CHECK(int64_t(x.n()) * x.h() * x.w() > 1 || cfg.sync, op, ": needs more than one value per channel, got ",
           x.shape.str());
  DG_CHECK(!running_mean.data || (running_mean.numel() == C && running_var.data && running_var.numel() == C), op,
           ": running_mean and running_var must both be (", C, ") or both empty");
}

static void check_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                           const BatchNormSaved& saved, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                           const char* op) {
  check_args(x, gamma, beta, dy, op, "dy");
  check_shape(dx, x.shape, (std::string(op) + " dx").c_str());
  const int C = x.c();
  DG_CHECK(saved.mean.numel() == C && saved.invstd.numel() == C, op,
           ": saved statistics are not those of a (", C, ")-channel forward");
  DG_CHECK(!dgamma.data || dgamma.numel() == C, op, ": dgamma must be (", C, ")");
  DG_CHECK(!dbeta.data || dbeta.numel() == C, op, ": dbeta must be (", C, ")");
}

BatchNormSaved batchnorm2d_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x,
                                         const Tensor& gamma, const Tensor& beta, Tensor running_mean,
                                         Tensor running_var, Tensor y) {
  check_forward_train(cfg, x, gamma, beta, running_mean, running_var, y, "batchnorm2d_forward_train");
  DG_DISPATCH(ctx, batchnorm2d_forward_train(ctx, cfg, x, gamma, beta, running_mean, running_var, y));
}

void batchnorm2d_forward_eval(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean, const Tensor& running_var,
                              Tensor y) {
  check_args(x, gamma, beta, y, "batchnorm2d_forward_eval", "output");
  check_shape(running_mean, {x.c()}, "batchnorm2d_forward_eval running_mean");
  check_shape(running_var, {x.c()}, "batchnorm2d_forward_eval running_var");
  DG_DISPATCH(ctx, batchnorm2d_forward_eval(ctx, cfg, x, gamma, beta, running_mean, running_var, y));
}

void batchnorm2d_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                          const Tensor& gamma, const Tensor& beta, const BatchNormSaved& saved, Tensor dx,
                          Tensor dgamma, Tensor dbeta) {
  check_backward(dy, x, gamma, beta, saved, dx, dgamma, dbeta, "batchnorm2d_backward");
  DG_DISPATCH(ctx, batchnorm2d_backward(ctx, cfg, dy, x, gamma, beta, saved, dx, dgamma, dbeta));
}

void cudnn_batchnorm_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                                   const Tensor& beta, Tensor running_mean, Tensor running_var, Tensor y,
                                   const BatchNormSaved& saved) {
  check_forward_train(cfg, x, gamma, beta, running_mean, running_var, y, "cudnn_batchnorm_forward_train");
  DG_CHECK(ctx.on_cuda(), "cudnn_batchnorm_forward_train: cuDNN's batchnorm runs on CUDA only");
  DG_DISPATCH_CUDA(ctx, cudnn_batchnorm_forward_train(ctx, cfg, x, gamma, beta, running_mean, running_var, y, saved));
}

void cudnn_batchnorm_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                              const Tensor& gamma, const Tensor& y_pre_act, const BatchNormSaved& saved, Tensor dx,
                              Tensor dgamma, Tensor dbeta) {
  check_backward(dy, x, gamma, gamma, saved, dx, dgamma, dbeta, "cudnn_batchnorm_backward");
  DG_CHECK(ctx.on_cuda(), "cudnn_batchnorm_backward: cuDNN's batchnorm runs on CUDA only");
  DG_DISPATCH_CUDA(ctx, cudnn_batchnorm_backward(ctx, cfg, dy, x, gamma, y_pre_act, saved, dx, dgamma, dbeta));
}

}  // namespace dg
