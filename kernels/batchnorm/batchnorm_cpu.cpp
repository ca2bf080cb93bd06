// BatchNorm2d (+ fused activation) on the CPU, forward and backward side by side.
//
// Per channel c over M = N*H*W values: mean, biased variance var, invstd = 1/sqrt(var+eps),
// xhat = (x - mean) * invstd, z = gamma * xhat + beta, y = act(z).
// Backward, with g = dy * act'(z) the gradient at z:
//   dbeta  = sum g,   dgamma = sum g * xhat,
//   dx     = gamma * invstd / M * (M * g - dbeta - xhat * dgamma)
// (the standard result of differentiating through the batch mean and variance).
// Sums are accumulated in double: this is the reference the CUDA kernels are held to. They
// are vectorized reductions (`omp simd`: lanes of doubles, added in a fixed order, so every
// run of the same build sums alike), and each loop is compiled for one activation
// (act::with_kind).
// With cfg.sync (synchronized BN) the channel sums and the count M are summed over the
// ranks between the passes, so every rank normalizes with the statistics of all the batches.
#include <cmath>
#include <vector>

#include "engine/comm/communicator.h"
#include "engine/cpu/parallel.h"
#include "kernels/activation/activation_math.h"
#include "kernels/batchnorm/batchnorm.h"

namespace dg::cpu {

// Sum over the ranks of cfg.sync (synchronized BN), in place; nothing without it.
static void sum_over_ranks(Context& ctx, const BatchNormConfig& cfg, std::vector<double>& values) {
  if (cfg.sync) cfg.sync->all_reduce_sum(ctx, values.data(), int64_t(values.size()));
}

BatchNormSaved batchnorm2d_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x,
                                         const Tensor& gamma, const Tensor& beta, Tensor running_mean,
                                         Tensor running_var, Tensor y) {
  const int N = x.n(), C = x.c();
  const int64_t P = int64_t(x.h()) * x.w();
  BatchNormSaved saved{ctx.alloc({C}), ctx.alloc({C})};
  // Pass 1: per channel sums (entry C: the count M, summed over ranks with sync BN).
  std::vector<double> sum(size_t(C) + 1, 0.0), sum_sq(size_t(C), 0.0);
#pragma omp parallel for schedule(static) if (int64_t(N) * C * P >= kParallelMinWork)
  for (int c = 0; c < C; c++) {
    double s = 0.0;
    for (int n = 0; n < N; n++) {
      const float* xc = x.data + (int64_t(n) * C + c) * P;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < P; i++) s += xc[i];
    }
    sum[size_t(c)] = s;
  }
  sum[size_t(C)] = double(N * P);
  sum_over_ranks(ctx, cfg, sum);
  const double M = sum[size_t(C)];
  DG_CHECK(M > 1, "batchnorm2d_forward_train: needs more than one value per channel, got ", M);
  // Pass 2: squared deviations from the mean (two passes: no cancellation).
#pragma omp parallel for schedule(static) if (int64_t(N) * C * P >= kParallelMinWork)
  for (int c = 0; c < C; c++) {
    const double mean = sum[size_t(c)] / M;
    double s = 0.0;
    for (int n = 0; n < N; n++) {
      const float* xc = x.data + (int64_t(n) * C + c) * P;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < P; i++) s += (xc[i] - mean) * (xc[i] - mean);
    }
    sum_sq[size_t(c)] = s;
  }
  sum_over_ranks(ctx, cfg, sum_sq);
  // Pass 3: normalize, and update the running statistics.
#pragma omp parallel for schedule(static) if (int64_t(N) * C * P >= kParallelMinWork)
  for (int c = 0; c < C; c++) {
    const double mean = sum[size_t(c)] / M;
    const double var = sum_sq[size_t(c)] / M;
    const float invstd = float(1.0 / std::sqrt(var + cfg.eps));
    saved.mean.data[c] = float(mean);
    saved.invstd.data[c] = invstd;
    if (running_mean.data) {
      running_mean.data[c] = float((1.0 - cfg.momentum) * running_mean.data[c] + cfg.momentum * mean);
      running_var.data[c] = float((1.0 - cfg.momentum) * running_var.data[c] + cfg.momentum * var * M / (M - 1));
    }
    const float scale = gamma.data[c] * invstd, shift = beta.data[c] - float(mean) * scale;
    act::with_kind(cfg.act, [&](auto act) {
      for (int n = 0; n < N; n++) {
        const float* xc = x.data + (int64_t(n) * C + c) * P;
        float* yc = y.data + (int64_t(n) * C + c) * P;
        for (int64_t i = 0; i < P; i++) yc[i] = act::forward(act, xc[i] * scale + shift);
      }
    });
  }
  return saved;
}

void batchnorm2d_forward_eval(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean, const Tensor& running_var,
                              Tensor y) {
  const int N = x.n(), C = x.c();
  const int64_t P = int64_t(x.h()) * x.w();
#pragma omp parallel for schedule(static) if (int64_t(N) * C * P >= kParallelMinWork)
  for (int c = 0; c < C; c++) {
    const float invstd = float(1.0 / std::sqrt(double(running_var.data[c]) + cfg.eps));
    const float scale = gamma.data[c] * invstd, shift = beta.data[c] - running_mean.data[c] * scale;
    act::with_kind(cfg.act, [&](auto act) {
      for (int n = 0; n < N; n++) {
        const float* xc = x.data + (int64_t(n) * C + c) * P;
        float* yc = y.data + (int64_t(n) * C + c) * P;
        for (int64_t i = 0; i < P; i++) yc[i] = act::forward(act, xc[i] * scale + shift);
      }
    });
  }
}

void batchnorm2d_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                          const Tensor& gamma, const Tensor& beta, const BatchNormSaved& saved, Tensor dx,
                          Tensor dgamma, Tensor dbeta) {
  const int N = x.n(), C = x.c();
  const int64_t P = int64_t(x.h()) * x.w();
  // Pass 1: the gradient g at z (through the activation) and its two channel sums
  // (entries [0, C): sum g, [C, 2C): sum g * xhat, 2C: the count M).
  std::vector<double> sums(2 * size_t(C) + 1, 0.0);
#pragma omp parallel for schedule(static) if (int64_t(N) * C * P >= kParallelMinWork)
  for (int c = 0; c < C; c++) {
    const float mean = saved.mean.data[c], invstd = saved.invstd.data[c];
    const float gm = gamma.data[c], bt = beta.data[c];
    double sum_g = 0.0, sum_g_xhat = 0.0;
    act::with_kind(cfg.act, [&](auto act) {
      for (int n = 0; n < N; n++) {
        const float* xc = x.data + (int64_t(n) * C + c) * P;
        const float* dyc = dy.data + (int64_t(n) * C + c) * P;
#pragma omp simd reduction(+ : sum_g, sum_g_xhat)
        for (int64_t i = 0; i < P; i++) {
          float xhat = (xc[i] - mean) * invstd;
          float g = dyc[i] * act::derivative(act, gm * xhat + bt);
          sum_g += g;
          sum_g_xhat += double(g) * xhat;
        }
      }
    });
    // This rank's sums: with sync BN the gradient all-reduce averages them over the ranks.
    if (dbeta.data) dbeta.data[c] += float(sum_g);
    if (dgamma.data) dgamma.data[c] += float(sum_g_xhat);
    sums[size_t(c)] = sum_g;
    sums[size_t(C + c)] = sum_g_xhat;
  }
  sums[2 * size_t(C)] = double(N * P);
  sum_over_ranks(ctx, cfg, sums);
  const float M = float(sums[2 * size_t(C)]);
  // Pass 2: dx.
#pragma omp parallel for schedule(static) if (int64_t(N) * C * P >= kParallelMinWork)
  for (int c = 0; c < C; c++) {
    const float mean = saved.mean.data[c], invstd = saved.invstd.data[c];
    const float gm = gamma.data[c], bt = beta.data[c];
    const float k = gm * invstd / M;
    const float mean_g = float(sums[size_t(c)]), mean_gx = float(sums[size_t(C + c)]);
    act::with_kind(cfg.act, [&](auto act) {
      for (int n = 0; n < N; n++) {
        const float* xc = x.data + (int64_t(n) * C + c) * P;
        const float* dyc = dy.data + (int64_t(n) * C + c) * P;
        float* dxc = dx.data + (int64_t(n) * C + c) * P;
        for (int64_t i = 0; i < P; i++) {
          float xhat = (xc[i] - mean) * invstd;
          float g = dyc[i] * act::derivative(act, gm * xhat + bt);
          dxc[i] = k * (M * g - mean_g - xhat * mean_gx);
        }
      }
    });
  }
}

}  // namespace dg::cpu
