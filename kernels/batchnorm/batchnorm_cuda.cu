// BatchNorm2d with a fused activation on the device (batchnorm_cpu.cpp has the
// math). Sums are taken in double with fixed reduction trees (kernels::block_sum, then the
// slices of a channel in slice order), as the CPU reference accumulates in double, so results
// never depend on timing. The block size depends on the shape only.
//
// Float expressions are spelled with __fmul_rn/__fadd_rn/__fsub_rn in the CPU's order: nvcc
// would otherwise fuse a*b+c into one fma and round differently from the CPU twin.
//
// Two ways through, one set of device functions (bn_normalize, bn_grad_sums, bn_grad_dx):
//   - fused: one block per channel walks that channel's M = N*H*W values: statistics,
//     normalization and activation in one kernel (backward: both sums and dx in one);
//   - split: the channel's samples cut into S slices (bn_splits: S > 1 when there are fewer
//     channels than a large GPU has SMs, so that C*S blocks fill it), one block per (channel,
//     slice), a kernel at each sum over the slices: slice sums -> combined in slice order ->
//     squared deviations -> combined -> normalize (backward: the two gradient sums -> combined
//     -> dx). Synchronized BN (BatchNormConfig::sync, --sync-bn) takes this way with any S and
//     all-reduces each combined sum over the ranks.
// With S = 1 the two ways give the same bits, so one rank of synchronized BN gives the fused
// kernels' bits, and with S > 1 one rank gives the split kernels' bits.
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

static int bn_splits(int N, int C, int64_t P) { return batchnorm_cuda_splits(N, C, P); }

// This block's samples [n0, n1): slice blockIdx.y of gridDim.y over N samples (the whole batch
// in the fused kernels).
struct Slice {
  int n0, n1;
};
__device__ __forceinline__ Slice slice_of(int N) {
  return {int(int64_t(N) * blockIdx.y / gridDim.y), int(int64_t(N) * (blockIdx.y + 1) / gridDim.y)};
}

// Walks the values of channel c of an (N, C, H, W) tensor, P = H*W per sample, from sample
// n0. Value k of the walk is sample n = n0 + k / P, position p = k % P, at ((n*C + c)*P + p).
// Thread t visits k = t, t + T, t + 2T, ... (T = blockDim.x); (n, p) steps by (T / P, T % P)
// with at most one carry (p + T % P < 2P), so no 64-bit division runs per element. The walk
// ends when n reaches the slice's end.
struct ChannelCursor {
  int64_t n, p, P, dn, dp;
  __device__ ChannelCursor(int64_t P_, int n0)
      : n(n0 + threadIdx.x / P_), p(threadIdx.x % P_), P(P_), dn(blockDim.x / P_), dp(blockDim.x % P_) {}
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

// The forward's last pass over channel c (blockIdx.x), this block's slice of it, from the
// channel's statistics over M values (M summed over the ranks with sync BN): the first slice's
// block saves mean and invstd and updates the running statistics (the variance takes the
// unbiased estimate, as PyTorch); every block writes its slice of y.
__device__ __forceinline__ void bn_normalize(const float* x, const float* gamma, const float* beta,
                                             float* running_mean, float* running_var, float* y, float* saved_mean,
                                             float* saved_invstd, int N, int C, int64_t P, float eps, float momentum,
                                             Activation act, double M, double mean, double var) {
  const int c = blockIdx.x;
  const Slice sl = slice_of(N);
  const float invstd = float(1.0 / sqrt(var + eps));
  if (threadIdx.x == 0 && blockIdx.y == 0) {
    saved_mean[c] = float(mean);
    saved_invstd[c] = invstd;
    if (running_mean) {
      running_mean[c] = float((1.0 - momentum) * running_mean[c] + momentum * mean);
      running_var[c] = float((1.0 - momentum) * running_var[c] + momentum * var * M / (M - 1));
    }
  }
  const float scale = __fmul_rn(gamma[c], invstd), shift = __fsub_rn(beta[c], __fmul_rn(float(mean), scale));
  for (ChannelCursor it(P, sl.n0); it.n < sl.n1; it.next()) {
    const int64_t i = it.index(c, C);
    y[i] = bn_apply(act, x[i], scale, shift);
  }
}

// Sum of this block's slice of channel c, over the block (every thread gets it).
__device__ __forceinline__ double bn_slice_sum(const float* x, int N, int C, int64_t P, double* shared) {
  const Slice sl = slice_of(N);
  double s = 0.0;
  for (ChannelCursor it(P, sl.n0); it.n < sl.n1; it.next()) s += x[it.index(blockIdx.x, C)];
  return kernels::block_sum(s, shared);
}

// Sum of (x - mean)^2 over this block's slice: the variance about the mean, no cancellation.
__device__ __forceinline__ double bn_slice_sq(const float* x, int N, int C, int64_t P, double mean, double* shared) {
  const Slice sl = slice_of(N);
  double s = 0.0;
  for (ChannelCursor it(P, sl.n0); it.n < sl.n1; it.next()) {
    const double d = x[it.index(blockIdx.x, C)] - mean;
    s += d * d;
  }
  return kernels::block_sum(s, shared);
}

static __global__ void __launch_bounds__(kMaxThreads)
    bn_forward_train_kernel(const float* x, const float* gamma, const float* beta, float* running_mean,
                            float* running_var, float* y, float* saved_mean, float* saved_invstd, int N, int C,
                            int64_t P, float eps, float momentum, Activation act) {
  __shared__ double shared[32];
  const double M = double(N) * double(P);
  const double mean = bn_slice_sum(x, N, C, P, shared) / M;
  const double var = bn_slice_sq(x, N, C, P, mean, shared) / M;  // biased, for normalizing
  bn_normalize(x, gamma, beta, running_mean, running_var, y, saved_mean, saved_invstd, N, C, P, eps, momentum, act, M,
               mean, var);
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

// Backward pass 1 over this block's slice of channel c: sum g and sum g * xhat, reduced over
// the block (every thread gets both).
__device__ __forceinline__ void bn_grad_sums(const float* dy, const float* x, int N, int C, int64_t P, float mean,
                                             float invstd, float gm, float bt, Activation act,
                                             double* shared, double& sum_g, double& sum_gx) {
  const int c = blockIdx.x;
  const Slice sl = slice_of(N);
  sum_g = 0.0;
  sum_gx = 0.0;
  for (ChannelCursor it(P, sl.n0); it.n < sl.n1; it.next()) {
    const int64_t i = it.index(c, C);
    const float xhat = __fmul_rn(__fsub_rn(x[i], mean), invstd);
    const float g = bn_grad_at_z(act, dy[i], xhat, gm, bt);
    sum_g += g;
    sum_gx += double(g) * xhat;
  }
  sum_g = kernels::block_sum(sum_g, shared);
  sum_gx = kernels::block_sum(sum_gx, shared);
}

// Backward pass 2 over this block's slice: dx = gamma * invstd / M * (M g - sum g - xhat *
// sum g xhat) [overwrite], M the channel's count (over all ranks with sync BN). Each value is
// read and written by the same thread, so dx may alias dy.
__device__ __forceinline__ void bn_grad_dx(const float* dy, const float* x, float* dx, int N, int C, int64_t P,
                                           float mean, float invstd, float gm, float bt, Activation act,
                                           float M, float fg, float fgx) {
  const int c = blockIdx.x;
  const Slice sl = slice_of(N);
  const float k = __fdiv_rn(__fmul_rn(gm, invstd), M);
  for (ChannelCursor it(P, sl.n0); it.n < sl.n1; it.next()) {
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


// ---- the split way: a kernel at each sum over a channel's slices ----
// Slice sums: partial[c S + s] = sum of slice s of channel c (grid C x S).
static __global__ void __launch_bounds__(kMaxThreads)
    bn_split_sum_kernel(const float* x, int N, int C, int64_t P, double* partial) {
  __shared__ double shared[32];
  const double s = bn_slice_sum(x, N, C, P, shared);
  if (threadIdx.x == 0) partial[int64_t(blockIdx.x) * gridDim.y + blockIdx.y] = s;
}

// out[r] = the S slice sums of row r in slice order (the first as it is, so that S = 1 gives it
// unchanged), for rows [0, rows); out[rows] = count. With `add` (the backward's first C rows into
// dbeta, the next C into dgamma), this rank's sums also accumulate into the parameter gradients.
static __global__ void bn_split_combine_kernel(const double* partial, int64_t rows, int S, double count, double* out,
                                               float* dbeta, float* dgamma) {
  DG_GRID_STRIDE(r, rows) {
    double sum = partial[r * S];
    for (int s = 1; s < S; s++) sum += partial[r * S + s];
    out[r] = sum;
    const int64_t C = rows / 2;
    if (dbeta && r < C) dbeta[r] += float(sum);
    if (dgamma && r >= C) dgamma[r - C] += float(sum);
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) out[rows] = count;
}

// Slice sums of squared deviations from the channel mean sums[c] / sums[C].
static __global__ void __launch_bounds__(kMaxThreads)
    bn_split_sq_kernel(const float* x, int N, int C, int64_t P, const double* sums, double* partial) {
  __shared__ double shared[32];
  const double s = bn_slice_sq(x, N, C, P, sums[blockIdx.x] / sums[C], shared);
  if (threadIdx.x == 0) partial[int64_t(blockIdx.x) * gridDim.y + blockIdx.y] = s;
}

// Normalizes with the combined statistics (over the ranks with sync BN).
static __global__ void __launch_bounds__(kMaxThreads)
    bn_split_apply_kernel(const float* x, const float* gamma, const float* beta, float* running_mean,
                          float* running_var, float* y, float* saved_mean, float* saved_invstd, int N, int C,
                          int64_t P, float eps, float momentum, Activation act, const double* sums,
                          const double* sq) {
  const int c = blockIdx.x;
  const double M = sums[C];
  bn_normalize(x, gamma, beta, running_mean, running_var, y, saved_mean, saved_invstd, N, C, P, eps, momentum, act, M,
               sums[c] / M, sq[c] / M);
}

// Backward pass 1, slice sums: partial[c S + s] = sum g, partial[(C + c) S + s] = sum g xhat.
static __global__ void __launch_bounds__(kMaxThreads)
    bn_split_backward_sums_kernel(const float* dy, const float* x, const float* gamma, const float* beta,
                                  const float* saved_mean, const float* saved_invstd, int N, int C, int64_t P,
                                  Activation act, double* partial) {
  __shared__ double shared[32];
  const int c = blockIdx.x, S = int(gridDim.y);
  double sum_g, sum_gx;
  bn_grad_sums(dy, x, N, C, P, saved_mean[c], saved_invstd[c], gamma[c], beta[c], act, shared, sum_g, sum_gx);
  if (threadIdx.x == 0) {
    partial[int64_t(c) * S + blockIdx.y] = sum_g;
    partial[int64_t(C + c) * S + blockIdx.y] = sum_gx;
  }
}

// Backward pass 2: dx from the combined sums (M: the count, over the ranks with sync BN).
static __global__ void __launch_bounds__(kMaxThreads)
    bn_split_backward_dx_kernel(const float* dy, const float* x, const float* gamma, const float* beta,
                                const float* saved_mean, const float* saved_invstd, float* dx, int N, int C,
                                int64_t P, Activation act, const double* sums) {
  const int c = blockIdx.x;
  bn_grad_dx(dy, x, dx, N, C, P, saved_mean[c], saved_invstd[c], gamma[c], beta[c], act, float(sums[2 * C]),
             float(sums[c]), float(sums[C + c]));
}

// n doubles of scratch from the context's arena (released by the caller's WorkspaceScope).
static double* scratch_doubles(Context& ctx, int64_t n) {
  return reinterpret_cast<double*>(ctx.alloc({int(2 * n)}).data);
}

// The grid of the split way, its threads (those of a slice's values: the fused kernels' with
// S = 1), and the combine's launch over `rows` rows.
struct SplitLaunch {
  int S, threads;
  dim3 grid;
  SplitLaunch(int N, int C, int64_t P)
      : S(bn_splits(N, C, P)), threads(bn_threads(int64_t(N / S) * P)), grid(unsigned(C), unsigned(S)) {}
};
static void combine(Context& ctx, const double* partial, int64_t rows, int S, double count, double* out,
                    float* dbeta = nullptr, float* dgamma = nullptr) {
  DG_LAUNCH(bn_split_combine_kernel, blocks_for(rows, 256), 256, 0, ctx.cuda().stream, partial, rows, S, count, out,
            dbeta, dgamma);
  DG_CUDA_CHECK_LAUNCH();
}

static void forward_train_split(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                                const Tensor& beta, Tensor running_mean, Tensor running_var, Tensor y,
                                const BatchNormSaved& saved) {
  const int N = x.n(), C = x.c();
  const int64_t P = int64_t(x.h()) * x.w();
  const SplitLaunch l(N, C, P);
  cudaStream_t stream = ctx.cuda().stream;
  WorkspaceScope workspace(ctx);
  double* partial = scratch_doubles(ctx, int64_t(C) * l.S);
  double* sums = scratch_doubles(ctx, C + 1);
  double* sq = scratch_doubles(ctx, C + 1);
  DG_LAUNCH(bn_split_sum_kernel, l.grid, l.threads, 0, stream, x.data, N, C, P, partial);
  DG_CUDA_CHECK_LAUNCH();
  combine(ctx, partial, C, l.S, double(N) * double(P), sums);
  if (cfg.sync) cfg.sync->all_reduce_sum(ctx, sums, C + 1);
  DG_LAUNCH(bn_split_sq_kernel, l.grid, l.threads, 0, stream, x.data, N, C, P, sums, partial);
  DG_CUDA_CHECK_LAUNCH();
  combine(ctx, partial, C, l.S, 0.0, sq);
  if (cfg.sync) cfg.sync->all_reduce_sum(ctx, sq, C);
  DG_LAUNCH(bn_split_apply_kernel, l.grid, l.threads, 0, stream, x.data, gamma.data, beta.data, running_mean.data,
            running_var.data, y.data, saved.mean.data, saved.invstd.data, N, C, P, cfg.eps, cfg.momentum, cfg.act,
            sums, sq);
  DG_CUDA_CHECK_LAUNCH();
}

static void backward_split(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                           const Tensor& gamma, const Tensor& beta, const BatchNormSaved& saved, Tensor dx,
                           Tensor dgamma, Tensor dbeta) {
  const int N = x.n(), C = x.c();
  const int64_t P = int64_t(x.h()) * x.w();
  const SplitLaunch l(N, C, P);
  cudaStream_t stream = ctx.cuda().stream;
  WorkspaceScope workspace(ctx);
  double* partial = scratch_doubles(ctx, 2 * int64_t(C) * l.S);
  double* sums = scratch_doubles(ctx, 2 * int64_t(C) + 1);
  DG_LAUNCH(bn_split_backward_sums_kernel, l.grid, l.threads, 0, stream, dy.data, x.data, gamma.data, beta.data,
            saved.mean.data, saved.invstd.data, N, C, P, cfg.act, partial);
  DG_CUDA_CHECK_LAUNCH();
  // dgamma/dbeta: this rank's sums (the gradient all-reduce averages them).
  combine(ctx, partial, 2 * int64_t(C), l.S, double(N) * double(P), sums, dbeta.data, dgamma.data);
  if (cfg.sync) cfg.sync->all_reduce_sum(ctx, sums, 2 * int64_t(C) + 1);
  DG_LAUNCH(bn_split_backward_dx_kernel, l.grid, l.threads, 0, stream, dy.data, x.data, gamma.data, beta.data,
            saved.mean.data, saved.invstd.data, dx.data, N, C, P, cfg.act, sums);
  DG_CUDA_CHECK_LAUNCH();
}

BatchNormSaved batchnorm2d_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x,
                                         const Tensor& gamma, const Tensor& beta, Tensor running_mean,
                                         Tensor running_var, Tensor y) {
  const int C = x.c();
  const int64_t P = int64_t(x.h()) * x.w(), M = x.n() * P;
  BatchNormSaved saved{ctx.alloc({C}), ctx.alloc({C})};
  if (C == 0) return saved;  // a grid of zero blocks is a launch error
  if (cfg.sync || bn_splits(x.n(), C, P) > 1) {
    forward_train_split(ctx, cfg, x, gamma, beta, running_mean, running_var, y, saved);
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
  if (cfg.sync || bn_splits(x.n(), C, P) > 1) return backward_split(ctx, cfg, dy, x, gamma, beta, saved, dx, dgamma, dbeta);
  DG_LAUNCH(bn_backward_kernel, C, bn_threads(M), 0, ctx.cuda().stream, dy.data, x.data, gamma.data, beta.data,
            saved.mean.data, saved.invstd.data, dx.data, dgamma.data, dbeta.data, x.n(), C, P,
            cfg.act);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
