// The ops dg's models are built from, backend-neutral. Each call runs on the context's
// device (engine/cpu/* or engine/cuda/*; both have exactly these signatures).
//
// Gradient convention (the same for every op, stated once here):
//   - gradients w.r.t. activations (dx) are OVERWRITTEN: each activation has one consumer.
//   - gradients w.r.t. parameters (dw, dgamma, dbeta) are ACCUMULATED (+=): a network's
//     parameters can receive gradient from several backward passes (real + fake batches
//     of a discriminator) before one optimizer step, and the caller zeroes them.
//   - a null output tensor (data == nullptr) means "not wanted": the G step needs D's
//     input gradient but not D's parameter gradients, so it passes an empty dw.
// All tensors are float32 NCHW on the context's device; shapes are checked.
#pragma once
#include <cstdint>

#include "engine/context.h"
#include "engine/tensor.h"

namespace dg {

class Communicator;  // engine/comm/communicator.h

// ---- convolution (no bias) ----
struct ConvGeom {
  int stride = 1;
  int padding = 0;     // zero padding of both axes, or of the height axis when padding_w >= 0
  int padding_w = -1;  // -1: as `padding` (Inception's 1x7 / 7x1 kernels pad one axis only)
  int pad_h() const { return padding; }
  int pad_w() const { return padding_w < 0 ? padding : padding_w; }
};
// Output height / width of a convolution, and of a transposed convolution.
int conv_out_size(int in, int kernel, ConvGeom g);
int conv_out_size_w(int in, int kernel, ConvGeom g);
int conv_transpose_out_size(int in, int kernel, ConvGeom g);
int conv_transpose_out_size_w(int in, int kernel, ConvGeom g);

// x (N, C, H, W), w (O, C, KH, KW) -> y (N, O, Ho, Wo)
void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y);
// dy (N, O, Ho, Wo), w -> dx (N, C, H, W)            [overwrite]
void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx);
// x, dy -> dw (O, C, KH, KW)                          [accumulate]
void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw);

// Transposed convolution, PyTorch's ConvTranspose2d (weight (Cin, Cout, KH, KW), no
// output padding). It is the adjoint of conv2d: its forward is conv2d's backward-data
// and its backward-data is conv2d's forward, with the same weight tensor.
// x (N, Cin, H, W), w (Cin, Cout, KH, KW) -> y (N, Cout, Ho, Wo), Ho = (H-1)*s - 2p + KH
void conv_transpose2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y);
// dy (N, Cout, Ho, Wo), w -> dx (N, Cin, H, W)         [overwrite]
void conv_transpose2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx);
// x, dy -> dw (Cin, Cout, KH, KW)                     [accumulate]
void conv_transpose2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw);

// ---- activations ----
enum class Act { identity, relu, leaky_relu, mish, tanh };
struct Activation {
  Act kind = Act::identity;
  float slope = 0.2f;  // leaky_relu only
};
const char* act_name(Act a);

// y = act(x), elementwise; y may be x (in place).
void activation_forward(Context& ctx, Activation act, const Tensor& x, Tensor y);
// dx = dy * act'(x), from the pre-activation x; dx may be dy (in place).
void activation_backward(Context& ctx, Activation act, const Tensor& x, const Tensor& dy, Tensor dx);

// ---- batch normalization (2-d, per channel), with a fused activation ----
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

// ---- binary cross-entropy on logits (fused, numerically stable) ----
// l_b = max(x_b, 0) - x_b * t + log(1 + exp(-|x_b|)).
// logits (B) -> per_sample (B) [optional], mean (1) = sum_b l_b / B,
//              dlogits (B) [optional, overwrite] = grad_scale * (sigmoid(x_b) - t) / B
void bce_with_logits(Context& ctx, const Tensor& logits, float target, Tensor per_sample, Tensor mean,
                     Tensor dlogits, float grad_scale = 1.0f);

// ---- fully connected (with bias): y = x w^T + b (engine/cpu/linear.cpp, engine/cuda/linear_cublas.cu) ----
// x (N, I) (any rank: the dims after the first are flattened), w (O, I), b (O) -> y (N, O).
// b may be empty (no bias).
void linear_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b, Tensor y);
// dy (N, O) -> dx (like x) [overwrite, optional], dw (O, I), db (O) [accumulate, optional]
void linear_backward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy, Tensor dx, Tensor dw,
                     Tensor db);

// ---- softmax and fused softmax cross-entropy over the last dim (engine/cpu/softmax.cpp, kernels/softmax.cu) ----
// logits (N, C) -> probs (N, C), numerically stable (the row maximum is subtracted first).
void softmax_forward(Context& ctx, const Tensor& logits, Tensor probs);
// labels (N) hold class ids as floats. loss (1) = mean_n -log softmax(logits_n)[label_n];
// dlogits (N, C) [overwrite, optional] = (softmax - onehot) / N; correct (1) [optional] =
// the number of rows whose argmax (ties to the lowest index) equals the label.
// loss may be empty too. A label that is not an integer in [0, C): on the CPU a dg::Error
// naming the value and its index; on CUDA (no host round trip) that row's loss and
// dlogits are NaN, so the mean loss is NaN, and the row is not counted as correct.
void softmax_cross_entropy(Context& ctx, const Tensor& logits, const Tensor& labels, Tensor loss, Tensor dlogits,
                           Tensor correct);

// ---- Adam, PyTorch semantics (torch.optim.Adam, L2 weight decay added to the gradient) ----
struct AdamConfig {
  float lr = 2e-4f;
  float beta1 = 0.5f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};
// One step over flat buffers of equal size; `step` counts from 1 (bias correction).
void adam_step(Context& ctx, const AdamConfig& cfg, int64_t step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq);

// ---- random numbers (kernels/philox.h) ----
// t[i] = mean + std * normal(seed, stream, offset + i); bit-identical on CPU and CUDA.
void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream,
                 uint64_t offset = 0);

// ---- elementwise helpers ----
// y = alpha * x + y
void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y);
void scale(Context& ctx, Tensor x, float alpha);


// ---- the K-discriminator generator loss (DESIGN §5) ----
// g_i(b) = BCEwithLogits(logits[i, b], 1) for discriminator i and sample b, L_i = mean_b g_i(b).
enum class GLoss { max, max_sample, mean, softmax, gman, seed };
const char* gloss_name(GLoss m);
struct GLossConfig {
  GLoss mode = GLoss::max;
  float lambda = 1.0f;  // softmax / gman temperature
};
// logits (K, B) -> loss (1) = L_G; dlogits (K, B) [overwrite] = dL_G / dlogits;
// selected (K) [accumulate]: how much each D was selected this step (1 for the chosen D in
// max/seed, the fraction of samples in max-sample, the weight w_i in softmax/gman, 1/K in
// mean). seed_scores (K): only for `seed`, the pre-update scores whose argmax picks the D.
// Ties go to the lowest index. Everything stays on the device.
// batch_means (K) [optional]: the L_i to select and weigh with instead of this batch's own
// (data-parallel training passes the means averaged over the ranks, so every rank makes the
// same choice); the reported loss is computed from them too. max-sample ignores them.
void generator_loss(Context& ctx, const GLossConfig& cfg, const Tensor& logits, const Tensor& seed_scores,
                    Tensor loss, Tensor dlogits, Tensor selected, const Tensor& batch_means = Tensor{});

// The seed project's selection scores for K = 2 (DESIGN §5 `seed`):
// scores[i] = real_loss[i] + fake_loss[1 - i], from the D step's pre-update losses (K each).
void seed_selection_scores(Context& ctx, const Tensor& real_loss, const Tensor& fake_loss, Tensor scores);

// dst = src (same number of elements), on the device.
void copy(Context& ctx, const Tensor& src, Tensor dst);

// If any value of `values` is NaN or Inf and first_bad[0] is still 0, sets first_bad[0] =
// step + 1. Lets a run name the exact step a loss went bad without reading it back each step.
void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad);

// ---- forward-only image ops of the feature networks (Inception-v3 FID, DESIGN §7) ----
struct PoolGeom {
  int kernel = 3;
  int stride = 1;
  int padding = 0;  // at most kernel / 2
};
int pool_out_size(int in, PoolGeom g);
// x (N, C, H, W) -> y (N, C, Ho, Wo): the max over each window (padding never wins).
void max_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y);
// ... the mean over each window's pixels inside the image (PyTorch's count_include_pad=False).
void avg_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y);
// x (N, C, H, W) -> y (N, C, Ho, Wo): PyTorch's interpolate(mode="bilinear",
// align_corners=False), no antialiasing.
void resize_bilinear(Context& ctx, const Tensor& x, Tensor y);
// Images in [-1, 1] to the nearest of the 256 levels an 8-bit PNG stores, still in [-1, 1]:
// y = round((clamp(x, -1, 1) + 1) * 127.5) / 127.5 - 1. y may be x.
void quantize_8bit(Context& ctx, const Tensor& x, Tensor y);
// dst[:, c0 : c0 + src.C] = src, for src (N, Cs, H, W) and dst (N, Cd, H, W): a channel
// concatenation, one piece at a time.
void copy_channels(Context& ctx, const Tensor& src, Tensor dst, int c0);

}  // namespace dg
