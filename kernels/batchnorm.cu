// BatchNorm2d with a fused activation on the device (engine/cpu/batchnorm2d.cpp has the
// math). One block per channel walks that channel's M = N*H*W values; sums are taken in
// double with a fixed reduction tree, as the CPU reference accumulates in double.
// Element k of channel c (k in [0, M)) is x[((k / P) * C + c) * P + k % P], P = H*W.
#include <cmath>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_ops.h"
#include "engine/op_checks.h"
#include "kernels/activation_math.cuh"

namespace dg::cuda {

constexpr int kThreads = 256;

__device__ __forceinline__ int64_t bn_index(int64_t k, int c, int C, int64_t P) { return ((k / P) * C + c) * P + k % P; }

static __global__ void bn_forward_train_kernel(const float* x, const float* gamma, const float* beta, float* running_mean,
                                               float* running_var, float* y, float* saved_mean, float* saved_invstd,
                                               int C, int64_t P, int64_t M, float eps, float momentum,
                                               kernels::ActParams act) {
  __shared__ double shared[32];
  const int c = blockIdx.x;
  double sum = 0.0;
  for (int64_t k = threadIdx.x; k < M; k += blockDim.x) sum += x[bn_index(k, c, C, P)];
  const double mean = kernels::block_sum(sum, shared) / double(M);
  double sq = 0.0;  // second pass: the variance about the mean, no cancellation
  for (int64_t k = threadIdx.x; k < M; k += blockDim.x) {
    const double d = x[bn_index(k, c, C, P)] - mean;
    sq += d * d;
  }
  const double var = kernels::block_sum(sq, shared) / double(M);
  const float invstd = float(1.0 / sqrt(var + eps));
  if (threadIdx.x == 0) {
    saved_mean[c] = float(mean);
    saved_invstd[c] = invstd;
    if (running_mean) {
      running_mean[c] = float((1.0 - momentum) * running_mean[c] + momentum * mean);
      running_var[c] = float((1.0 - momentum) * running_var[c] + momentum * var * double(M) / double(M - 1));
    }
  }
  const float scale = gamma[c] * invstd, shift = beta[c] - float(mean) * scale;
  for (int64_t k = threadIdx.x; k < M; k += blockDim.x) {
    const int64_t i = bn_index(k, c, C, P);
    y[i] = kernels::act_forward(act, x[i] * scale + shift);
  }
}

static __global__ void bn_forward_eval_kernel(const float* x, const float* gamma, const float* beta,
                                              const float* running_mean, const float* running_var, float* y, int C,
                                              int64_t P, int64_t total, float eps, kernels::ActParams act) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int c = int((i / P) % C);
    const float invstd = float(1.0 / sqrt(double(running_var[c]) + eps));
    const float scale = gamma[c] * invstd, shift = beta[c] - running_mean[c] * scale;
    y[i] = kernels::act_forward(act, x[i] * scale + shift);
  }
}

static __global__ void bn_backward_kernel(const float* dy, const float* x, const float* gamma, const float* beta,
                                          const float* saved_mean, const float* saved_invstd, float* dx,
                                          float* dgamma, float* dbeta, int C, int64_t P, int64_t M,
                                          kernels::ActParams act) {
  __shared__ double shared[32];
  const int c = blockIdx.x;
  const float mean = saved_mean[c], invstd = saved_invstd[c], gm = gamma[c], bt = beta[c];
  // Pass 1: g = dy * act'(z) at the recomputed pre-activation z, and its two channel sums.
  double sum_g = 0.0, sum_gx = 0.0;
  for (int64_t k = threadIdx.x; k < M; k += blockDim.x) {
    const int64_t i = bn_index(k, c, C, P);
    const float xhat = (x[i] - mean) * invstd;
    const float g = dy[i] * kernels::act_derivative(act, gm * xhat + bt);
    sum_g += g;
    sum_gx += double(g) * xhat;
  }
  sum_g = kernels::block_sum(sum_g, shared);
  sum_gx = kernels::block_sum(sum_gx, shared);
  if (threadIdx.x == 0) {
    if (dbeta) dbeta[c] += float(sum_g);
    if (dgamma) dgamma[c] += float(sum_gx);
  }
  // Pass 2: dx = gamma * invstd / M * (M g - sum g - xhat * sum g xhat).
  const float k_scale = gm * invstd / float(M), fg = float(sum_g), fgx = float(sum_gx);
  for (int64_t k = threadIdx.x; k < M; k += blockDim.x) {
    const int64_t i = bn_index(k, c, C, P);
    const float xhat = (x[i] - mean) * invstd;
    const float g = dy[i] * kernels::act_derivative(act, gm * xhat + bt);
    dx[i] = k_scale * (float(M) * g - fg - xhat * fgx);
  }
}

BatchNormSaved batchnorm2d_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x,
                                         const Tensor& gamma, const Tensor& beta, Tensor running_mean,
                                         Tensor running_var, Tensor y) {
  check_batchnorm_args(x, gamma, beta, "batchnorm2d_forward_train");
  check_shape(y, x.shape, "batchnorm2d_forward_train output");
  const int C = x.c();
  const int64_t P = int64_t(x.h()) * x.w(), M = x.n() * P;
  DG_CHECK(M > 1, "batchnorm2d_forward_train: needs more than one value per channel, got ", x.shape.str());
  BatchNormSaved saved{ctx.alloc({C}), ctx.alloc({C})};
  bn_forward_train_kernel<<<C, kThreads, 0, ctx.cuda().stream>>>(
      x.data, gamma.data, beta.data, running_mean.data, running_var.data, y.data, saved.mean.data, saved.invstd.data,
      C, P, M, cfg.eps, cfg.momentum, kernels::act_params(cfg.act));
  DG_CUDA_CHECK_LAUNCH();
  return saved;
}

void batchnorm2d_forward_eval(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean, const Tensor& running_var,
                              Tensor y) {
  check_batchnorm_args(x, gamma, beta, "batchnorm2d_forward_eval");
  check_shape(y, x.shape, "batchnorm2d_forward_eval output");
  const int64_t P = int64_t(x.h()) * x.w(), total = x.numel();
  bn_forward_eval_kernel<<<blocks_for(total, kThreads), kThreads, 0, ctx.cuda().stream>>>(
      x.data, gamma.data, beta.data, running_mean.data, running_var.data, y.data, x.c(), P, total, cfg.eps,
      kernels::act_params(cfg.act));
  DG_CUDA_CHECK_LAUNCH();
}

void batchnorm2d_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                          const Tensor& gamma, const Tensor& beta, const BatchNormSaved& saved, Tensor dx,
                          Tensor dgamma, Tensor dbeta) {
  check_batchnorm_args(x, gamma, beta, "batchnorm2d_backward");
  check_shape(dy, x.shape, "batchnorm2d_backward dy");
  check_shape(dx, x.shape, "batchnorm2d_backward dx");
  const int C = x.c();
  const int64_t P = int64_t(x.h()) * x.w(), M = x.n() * P;
  bn_backward_kernel<<<C, kThreads, 0, ctx.cuda().stream>>>(dy.data, x.data, gamma.data, beta.data, saved.mean.data,
                                                            saved.invstd.data, dx.data, dgamma.data, dbeta.data, C,
                                                            P, M, kernels::act_params(cfg.act));
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
