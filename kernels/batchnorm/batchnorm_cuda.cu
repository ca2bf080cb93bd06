// BatchNorm2d with a fused activation on the device (batchnorm_cpu.cpp has the
// math). One block per channel walks that channel's M = N*H*W values; sums are taken in
// double with a fixed reduction tree (kernels::block_sum), as the CPU reference accumulates
// in double, so results never depend on timing. The block size depends on M only.
//
// Float expressions are spelled with __fmul_rn/__fadd_rn/__fsub_rn in the CPU's order: nvcc
// would otherwise fuse a*b+c into one fma and round differently from the CPU twin.
//
// Synchronized BN (BatchNormConfig::sync, --sync-bn): the same passes split into kernels at
// each cross-rank sum (channel sums -> all-reduce -> squared deviations -> all-reduce ->
// normalize; backward: the two gradient sums -> all-reduce -> dx); both run the same device
// functions for each pass (bn_normalize, bn_grad_sums, bn_grad_dx), so one rank gives the
// fused kernels' bits.
#include <cmath>

#include "engine/comm/communicator.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/activation/activation_math.h"
#include "kernels/batchnorm/batchnorm.h"
#include "kernels/block_sum.cuh"
#include "kernels/launch.cuh"

namespace dg::cuda {

constexpr int kMaxThreads = 1024;

// Threads per channel block: more for big channels, so a layer with few channels (C = 64
// at 32x32) still streams its values with many loads in flight.
static int bn_threads(int64_t M) { return M >= 65536 ? 1024 : M >= 8192 ? 512 : 256; }

// Walks the values of channel c of an (N, C, H, W) tensor, P = H*W per sample. Value k of
// the channel (k in [0, M)) is sample n = k / P, position p = k % P, at ((n*C + c)*P + p).
// Thread t visits k = t, t + T, t + 2T, ... (T = blockDim.x); (n, p) steps by (T / P, T % P)
// with at most one carry (p + T % P < 2P), so no 64-bit division runs per element.
// k < M exactly when n < N.
struct ChannelCursor {
  int64_t n, p, P, dn, dp;
  __device__ explicit ChannelCursor(int64_t P_)
      : n(threadIdx.x / P_), p(threadIdx.x % P_), P(P_), dn(blockDim.x / P_), dp(blockDim.x % P_) {}
  __device__ void next() {
    n += dn;
    p += dp;
    if (p >= P) {
      p -= P;
      n++;
    }
  }
  __device__ int64_t index(int c, int C) const { return (n * C + c) * P + p; }
};

// y = act(x * scale + shift), rounded as the CPU's `act(x * scale + shift)`.
__device__ __forceinline__ float bn_apply(Activation act, float x, float scale, float shift) {
  return act::forward(act, __fadd_rn(__fmul_rn(x, scale), shift));
}

// The forward's last pass over channel c (block c), from its statistics over M values (M
// summed over the ranks with sync BN): saves mean and invstd, updates the running statistics
// (the variance takes the unbiased estimate, as PyTorch) and writes y. Fused and synchronized
// BN share it.
__device__ __forceinline__ void bn_normalize(const float* x, const float* gamma, const float* beta,
                                             float* running_mean, float* running_var, float* y, float* saved_mean,
                                             float* saved_invstd, int N, int C, int64_t P, float eps, float momentum,
                                             Activation act, double M, double mean, double var) {
  const int c = blockIdx.x;
  const float invstd = float(1.0 / sqrt(var + eps));
  if (threadIdx.x == 0) {
    saved_mean[c] = float(mean);
    saved_invstd[c] = invstd;
    if (running_mean) {
      running_mean[c] = float((1.0 - momentum) * running_mean[c] + momentum * mean);
      running_var[c] = float((1.0 - momentum) * running_var[c] + momentum * var * M / (M - 1));
    }
  }
  const float scale = __fmul_rn(gamma[c], invstd), shift = __fsub_rn(beta[c], __fmul_rn(float(mean), scale));
  for (ChannelCursor it(P); it.n < N; it.next()) {
    const int64_t i = it.index(c, C);
    y[i] = bn_apply(act, x[i], scale, shift);
  }
}

static __global__ void __launch_bounds__(kMaxThreads)
    bn_forward_train_kernel(const float* x, const float* gamma, const float* beta, float* running_mean,
                            float* running_var, float* y, float* saved_mean, float* saved_invstd, int N, int C,
                            int64_t P, float eps, float momentum, Activation act) {
  __shared__ double shared[32];
  const int c = blockIdx.x;
  const int64_t M = int64_t(N) * P;
  double sum = 0.0;
  for (ChannelCursor it(P); it.n < N; it.next()) sum += x[it.index(c, C)];
  const double mean = kernels::block_sum(sum, shared) / double(M);
  double sq = 0.0;  // second pass: the variance about the mean, no cancellation
  for (ChannelCursor it(P); it.n < N; it.next()) {
    const double d = x[it.index(c, C)] - mean;
    sq += d * d;
  }
  const double var = kernels::block_sum(sq, shared) / double(M);  // biased, for normalizing
  bn_normalize(x, gamma, beta, running_mean, running_var, y, saved_mean, saved_invstd, N, C, P, eps, momentum, act,
               double(M), mean, var);
}

// Eval mode is elementwise: each value finds its channel's running statistics.
static __global__ void bn_forward_eval_kernel(const float* x, const float* gamma, const float* beta,
                                              const float* running_mean, const float* running_var, float* y, int C,
                                              int64_t P, int64_t total, float eps, Activation act) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int c = int((i / P) % C);
    const float invstd = float(1.0 / sqrt(double(running_var[c]) + eps));
    const float scale = __fmul_rn(gamma[c], invstd), shift = __fsub_rn(beta[c], __fmul_rn(running_mean[c], scale));
    y[i] = bn_apply(act, x[i], scale, shift);
  }
}

// g = dy * act'(z) at the pre-activation z = gamma * xhat + beta, recomputed from x.
__device__ __forceinline__ float bn_grad_at_z(Activation act, float dy, float xhat, float gm, float bt) {
  return __fmul_rn(dy, act::derivative(act, __fadd_rn(__fmul_rn(gm, xhat), bt)));
}

// Backward pass 1 of channel c (block c): sum g and sum g * xhat over the block's values,
// reduced over the block (every thread gets both). Fused and synchronized BN share it, so one
// rank of the latter gives the former's bits.
__device__ __forceinline__ void bn_grad_sums(const float* dy, const float* x, int N, int C, int64_t P, float mean,
                                             float invstd, float gm, float bt, Activation act,
                                             double* shared, double& sum_g, double& sum_gx) {
  const int c = blockIdx.x;
  sum_g = 0.0;
  sum_gx = 0.0;
  for (ChannelCursor it(P); it.n < N; it.next()) {
    const int64_t i = it.index(c, C);
    const float xhat = __fmul_rn(__fsub_rn(x[i], mean), invstd);
    const float g = bn_grad_at_z(act, dy[i], xhat, gm, bt);
    sum_g += g;
    sum_gx += double(g) * xhat;
  }
  sum_g = kernels::block_sum(sum_g, shared);
  sum_gx = kernels::block_sum(sum_gx, shared);
}

// Backward pass 2 of channel c: dx = gamma * invstd / M * (M g - sum g - xhat * sum g xhat)
// [overwrite], M the count (over all ranks with sync BN). Each value is read and written by
// the same thread, so dx may alias dy.
__device__ __forceinline__ void bn_grad_dx(const float* dy, const float* x, float* dx, int N, int C, int64_t P,
                                           float mean, float invstd, float gm, float bt, Activation act,
                                           float M, float fg, float fgx) {
  const int c = blockIdx.x;
  const float k = __fdiv_rn(__fmul_rn(gm, invstd), M);
  for (ChannelCursor it(P); it.n < N; it.next()) {
    const int64_t i = it.index(c, C);
    const float xhat = __fmul_rn(__fsub_rn(x[i], mean), invstd);
    const float g = bn_grad_at_z(act, dy[i], xhat, gm, bt);
    dx[i] = __fmul_rn(k, __fsub_rn(__fsub_rn(__fmul_rn(M, g), fg), __fmul_rn(xhat, fgx)));
  }
}

static __global__ void __launch_bounds__(kMaxThreads)
    bn_backward_kernel(const float* dy, const float* x, const float* gamma, const float* beta,
                       const float* saved_mean, const float* saved_invstd, float* dx, float* dgamma, float* dbeta,
                       int N, int C, int64_t P, Activation act) {
  __shared__ double shared[32];
  const int c = blockIdx.x;
  const float mean = saved_mean[c], invstd = saved_invstd[c], gm = gamma[c], bt = beta[c];
  double sum_g, sum_gx;
  bn_grad_sums(dy, x, N, C, P, mean, invstd, gm, bt, act, shared, sum_g, sum_gx);
  if (threadIdx.x == 0) {  // parameter gradients accumulate
    if (dbeta) dbeta[c] += float(sum_g);
    if (dgamma) dgamma[c] += float(sum_gx);
  }
  bn_grad_dx(dy, x, dx, N, C, P, mean, invstd, gm, bt, act, float(int64_t(N) * P), float(sum_g), float(sum_gx));
}


// ---- synchronized BN: the fused kernels' passes, one kernel each ----
// Channel sums in double: sums[c] = sum of channel c's values; block 0 also writes the count
// sums[C] = N*P (summed over the ranks with the rest).
static __global__ void __launch_bounds__(kMaxThreads)
    bn_sync_sum_kernel(const float* x, int N, int C, int64_t P, double* sums) {
  __shared__ double shared[32];
  const int c = blockIdx.x;
  double s = 0.0;
  for (ChannelCursor it(P); it.n < N; it.next()) s += x[it.index(c, C)];
  s = kernels::block_sum(s, shared);
  if (threadIdx.x == 0) {
    sums[c] = s;
    if (c == 0) sums[C] = double(N) * double(P);
  }
}

// Squared deviations from the global mean sums[c] / sums[C].
static __global__ void __launch_bounds__(kMaxThreads)
    bn_sync_sq_kernel(const float* x, int N, int C, int64_t P, const double* sums, double* sq) {
  __shared__ double shared[32];
  const int c = blockIdx.x;
  const double mean = sums[c] / sums[C];
  double s = 0.0;
  for (ChannelCursor it(P); it.n < N; it.next()) {
    const double d = x[it.index(c, C)] - mean;
    s += d * d;
  }
  s = kernels::block_sum(s, shared);
  if (threadIdx.x == 0) sq[c] = s;
}

// Normalizes with the global statistics; the running ones take the global batch's.
static __global__ void __launch_bounds__(kMaxThreads)
    bn_sync_apply_kernel(const float* x, const float* gamma, const float* beta, float* running_mean,
                         float* running_var, float* y, float* saved_mean, float* saved_invstd, int N, int C,
                         int64_t P, float eps, float momentum, Activation act, const double* sums,
                         const double* sq) {
  const int c = blockIdx.x;
  const double M = sums[C];
  bn_normalize(x, gamma, beta, running_mean, running_var, y, saved_mean, saved_invstd, N, C, P, eps, momentum, act, M,
               sums[c] / M, sq[c] / M);
}

// Backward pass 1: this rank's dbeta/dgamma (accumulated; the gradient all-reduce averages
// them) and the sums behind dx: sums[c] = sum g, sums[C + c] = sum g xhat, sums[2C] = N*P.
static __global__ void __launch_bounds__(kMaxThreads)
    bn_sync_backward_sums_kernel(const float* dy, const float* x, const float* gamma, const float* beta,
                                 const float* saved_mean, const float* saved_invstd, float* dgamma, float* dbeta,
                                 int N, int C, int64_t P, Activation act, double* sums) {
  __shared__ double shared[32];
  const int c = blockIdx.x;
  double sum_g, sum_gx;
  bn_grad_sums(dy, x, N, C, P, saved_mean[c], saved_invstd[c], gamma[c], beta[c], act, shared, sum_g, sum_gx);
  if (threadIdx.x == 0) {
    if (dbeta) dbeta[c] += float(sum_g);
    if (dgamma) dgamma[c] += float(sum_gx);
    sums[c] = sum_g;
    sums[C + c] = sum_gx;
    if (c == 0) sums[2 * C] = double(N) * double(P);
  }
}

// Backward pass 2: dx from the sums over all ranks (M: the global count).
static __global__ void __launch_bounds__(kMaxThreads)
    bn_sync_backward_dx_kernel(const float* dy, const float* x, const float* gamma, const float* beta,
                               const float* saved_mean, const float* saved_invstd, float* dx, int N, int C,
                               int64_t P, Activation act, const double* sums) {
  const int c = blockIdx.x;
  bn_grad_dx(dy, x, dx, N, C, P, saved_mean[c], saved_invstd[c], gamma[c], beta[c], act, float(sums[2 * C]),
             float(sums[c]), float(sums[C + c]));
}

// n doubles of scratch from the context's arena (the step's scope releases them).
static double* scratch_doubles(Context& ctx, int64_t n) {
  return reinterpret_cast<double*>(ctx.alloc({int(2 * n)}).data);
}

static void forward_train_sync(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                               const Tensor& beta, Tensor running_mean, Tensor running_var, Tensor y,
                               const BatchNormSaved& saved) {
  const int N = x.n(), C = x.c();
  const int64_t P = int64_t(x.h()) * x.w();
  const int threads = bn_threads(N * P);
  cudaStream_t stream = ctx.cuda().stream;
  double* sums = scratch_doubles(ctx, C + 1);
  double* sq = scratch_doubles(ctx, C);
  DG_LAUNCH(bn_sync_sum_kernel, C, threads, 0, stream, x.data, N, C, P, sums);
  DG_CUDA_CHECK_LAUNCH();
  cfg.sync->all_reduce_sum(ctx, sums, C + 1);
  DG_LAUNCH(bn_sync_sq_kernel, C, threads, 0, stream, x.data, N, C, P, sums, sq);
  DG_CUDA_CHECK_LAUNCH();
  cfg.sync->all_reduce_sum(ctx, sq, C);
  DG_LAUNCH(bn_sync_apply_kernel, C, threads, 0, stream, x.data, gamma.data, beta.data, running_mean.data,
            running_var.data, y.data, saved.mean.data, saved.invstd.data, N, C, P, cfg.eps, cfg.momentum,
            cfg.act, sums, sq);
  DG_CUDA_CHECK_LAUNCH();
}

static void backward_sync(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                          const Tensor& gamma, const Tensor& beta, const BatchNormSaved& saved, Tensor dx,
                          Tensor dgamma, Tensor dbeta) {
  const int N = x.n(), C = x.c();
  const int64_t P = int64_t(x.h()) * x.w();
  const int threads = bn_threads(N * P);
  cudaStream_t stream = ctx.cuda().stream;
  double* sums = scratch_doubles(ctx, 2 * int64_t(C) + 1);
  DG_LAUNCH(bn_sync_backward_sums_kernel, C, threads, 0, stream, dy.data, x.data, gamma.data, beta.data,
            saved.mean.data, saved.invstd.data, dgamma.data, dbeta.data, N, C, P, cfg.act, sums);
  DG_CUDA_CHECK_LAUNCH();
  cfg.sync->all_reduce_sum(ctx, sums, 2 * int64_t(C) + 1);
  DG_LAUNCH(bn_sync_backward_dx_kernel, C, threads, 0, stream, dy.data, x.data, gamma.data, beta.data, saved.mean.data,
            saved.invstd.data, dx.data, N, C, P, cfg.act, sums);
  DG_CUDA_CHECK_LAUNCH();
}

BatchNormSaved batchnorm2d_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x,
                                         const Tensor& gamma, const Tensor& beta, Tensor running_mean,
                                         Tensor running_var, Tensor y) {
  const int C = x.c();
  const int64_t P = int64_t(x.h()) * x.w(), M = x.n() * P;
  BatchNormSaved saved{ctx.alloc({C}), ctx.alloc({C})};
  if (C == 0) return saved;  // a grid of zero blocks is a launch error
  if (cfg.sync) {
    forward_train_sync(ctx, cfg, x, gamma, beta, running_mean, running_var, y, saved);
    return saved;
  }
  DG_LAUNCH(bn_forward_train_kernel, C, bn_threads(M), 0, ctx.cuda().stream, x.data, gamma.data, beta.data,
            running_mean.data, running_var.data, y.data, saved.mean.data, saved.invstd.data, x.n(), C, P, cfg.eps,
            cfg.momentum, cfg.act);
  DG_CUDA_CHECK_LAUNCH();
  return saved;
}

void batchnorm2d_forward_eval(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean, const Tensor& running_var,
                              Tensor y) {
  const int64_t P = int64_t(x.h()) * x.w(), total = x.numel();
  if (total == 0) return;
  DG_LAUNCH(bn_forward_eval_kernel, blocks_for(total, 256), 256, 0, ctx.cuda().stream, x.data, gamma.data, beta.data,
            running_mean.data, running_var.data, y.data, x.c(), P, total, cfg.eps, cfg.act);
  DG_CUDA_CHECK_LAUNCH();
}

void batchnorm2d_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                          const Tensor& gamma, const Tensor& beta, const BatchNormSaved& saved, Tensor dx,
                          Tensor dgamma, Tensor dbeta) {
  const int C = x.c();
  const int64_t P = int64_t(x.h()) * x.w(), M = x.n() * P;
  if (M == 0 || C == 0) return;
  if (cfg.sync) return backward_sync(ctx, cfg, dy, x, gamma, beta, saved, dx, dgamma, dbeta);
  DG_LAUNCH(bn_backward_kernel, C, bn_threads(M), 0, ctx.cuda().stream, dy.data, x.data, gamma.data, beta.data,
            saved.mean.data, saved.invstd.data, dx.data, dgamma.data, dbeta.data, x.n(), C, P,
            cfg.act);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
