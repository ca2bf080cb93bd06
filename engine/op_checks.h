// What the CPU and CUDA bodies of an op share besides their signature: argument checks (so
// both fail with the same message) and host-side scalars.
#pragma once
#include <cstdint>

#include "engine/ops.h"

namespace dg {

// x (N, C, H, W); gamma, beta (C).
void check_batchnorm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, const char* op);

// Equal sizes, step >= 1.
void check_adam_args(const Tensor& params, const Tensor& grads, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                     int64_t step);
// torch.optim.Adam's per-step scalars, in double then rounded: lr / (1 - beta1^t) and
// sqrt(1 - beta2^t).
struct AdamScalars {
  float step_size, bias2_sqrt;
};
AdamScalars adam_scalars(const AdamConfig& cfg, int64_t step);

// x, y (N, C, H, W) with y's size what the window makes of x's.
void check_pool(const Tensor& x, PoolGeom g, const Tensor& y, const char* op);
// src fits into dst's channels [c0, c0 + src.C).
void check_copy_channels(const Tensor& src, const Tensor& dst, int c0);

// Linear: x (N, ...) with I = the product of its other dims, w (O, I), b (O) or empty, and
// `out` (N, O) (y or dy). Returns the sizes.
struct LinearDims {
  int N, I, O;
};
LinearDims check_linear_args(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out, const char* op);
// Softmax cross-entropy: logits (N, C), labels (N), loss/correct (1), dlogits like logits
// (each optional but the logits and labels).
void check_softmax_ce_args(const Tensor& logits, const Tensor& labels, const Tensor& loss, const Tensor& dlogits,
                           const Tensor& correct);

}  // namespace dg
