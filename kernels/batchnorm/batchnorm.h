// Batch normalization (2-d, per channel) with a fused activation, training and eval modes,
// forward and backward; synchronized over ranks on request (--sync-bn).
#pragma once
#include "kernels/op.h"
#include "kernels/activation/activation.h"

namespace dg {

class Communicator;  // engine/comm/communicator.h

// y = act(gamma * (x - mean) * invstd + beta), eps inside the sqrt as PyTorch.
struct BatchNormSaved {
  Tensor mean;    // (C) batch mean
  Tensor invstd;  // (C) 1 / sqrt(biased batch variance + eps)
};
struct BatchNormConfig {
  float eps = 1e-5f;
  float momentum = 0.1f;  // running = (1 - momentum) * running + momentum * batch
  Activation act;
  // Synchronized BN (--sync-bn): the batch statistics are those of the union of every
  // rank's batch. The forward sums each channel's values (then their squared deviations)
  // over the ranks; the backward sums the two channel sums behind dx (those of dbeta and
  // dgamma). dgamma/dbeta themselves stay this rank's sums: the gradient all-reduce
  // averages them like every other gradient. nullptr: per-rank statistics.
  Communicator* sync = nullptr;
};
// Training mode: batch statistics; running_mean/var (C) updated (the variance with the
// unbiased batch variance, as PyTorch); `saved` is allocated here and is what backward needs.
// x (N, C, H, W), gamma/beta (C) -> y (N, C, H, W)
BatchNormSaved batchnorm2d_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x,
                                         const Tensor& gamma, const Tensor& beta, Tensor running_mean,
                                         Tensor running_var, Tensor y);
// Eval mode: normalizes with the running statistics.
void batchnorm2d_forward_eval(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean, const Tensor& running_var,
                              Tensor y);
// Backward of the training-mode forward (activation included): recomputes the
// pre-activation from x and `saved`, so nothing but x is kept.
// -> dx [overwrite], dgamma, dbeta (C) [accumulate; either may be empty]
void batchnorm2d_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                          const Tensor& gamma, const Tensor& beta, const BatchNormSaved& saved, Tensor dx,
                          Tensor dgamma, Tensor dbeta);

// Blocks per channel of the CUDA kernels for a batch (N, C, H, W), P = H*W: 1 (one block per
// channel, the fused kernels) or S > 1 (the split way, batchnorm_cuda.cu): S > 1 only with fewer
// than 128 channels (an H100/H200 has 132 SMs), enough slices of whole samples for about 256
// blocks, each slice at least 256 values. A function of the shape alone: the same on every
// device and rank. (Here, not in the .cu file: dgbench's step model counts launches with it.)
int batchnorm_cuda_splits(int N, int C, int64_t P);

// The alternative dgbench times next to the fused kernels, on CUDA only (batchnorm_cudnn.cu):
// cuDNN's batchnorm, then the activation as a kernel of its own. saved.mean/invstd (C) are
// filled by the forward; the backward needs the pre-activation output; dgamma/dbeta accumulate.
void cudnn_batchnorm_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                                   const Tensor& beta, Tensor running_mean, Tensor running_var, Tensor y,
                                   const BatchNormSaved& saved);
void cudnn_batchnorm_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                              const Tensor& gamma, const Tensor& y_pre_act, const BatchNormSaved& saved, Tensor dx,
                              Tensor dgamma, Tensor dbeta);

}  // namespace dg
