// The CUDA twins of engine/ops.h: exactly the same signatures, semantics and gradient
// convention, called through engine/dispatch.h when the context is on the GPU. Plain C++
// (no CUDA types), so the CPU files can include it.
#pragma once
#include "engine/ops.h"
#include "engine/timing.h"

namespace dg::cuda {

void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y);
void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx);
void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw);
void conv_transpose2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y);
void conv_transpose2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx);
void conv_transpose2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw);

void activation_forward(Context& ctx, Activation act, const Tensor& x, Tensor y);
void activation_backward(Context& ctx, Activation act, const Tensor& x, const Tensor& dy, Tensor dx);

BatchNormSaved batchnorm2d_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x,
                                         const Tensor& gamma, const Tensor& beta, Tensor running_mean,
                                         Tensor running_var, Tensor y);
void batchnorm2d_forward_eval(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean, const Tensor& running_var,
                              Tensor y);
void batchnorm2d_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                          const Tensor& gamma, const Tensor& beta, const BatchNormSaved& saved, Tensor dx,
                          Tensor dgamma, Tensor dbeta);

void bce_with_logits(Context& ctx, const Tensor& logits, float target, Tensor per_sample, Tensor mean,
                     Tensor dlogits, float grad_scale);
void generator_loss(Context& ctx, const GLossConfig& cfg, const Tensor& logits, const Tensor& seed_scores,
                    Tensor loss, Tensor dlogits, Tensor selected, const Tensor& batch_means);
void seed_selection_scores(Context& ctx, const Tensor& real_loss, const Tensor& fake_loss, Tensor scores);

void linear_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b, Tensor y);
void linear_backward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy, Tensor dx, Tensor dw,
                     Tensor db);
void softmax_forward(Context& ctx, const Tensor& logits, Tensor probs);
void softmax_cross_entropy(Context& ctx, const Tensor& logits, const Tensor& labels, Tensor loss, Tensor dlogits,
                           Tensor correct);

void adam_step(Context& ctx, const AdamConfig& cfg, int64_t step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq);

void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream, uint64_t offset);
void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y);
void scale(Context& ctx, Tensor x, float alpha);
void copy(Context& ctx, const Tensor& src, Tensor dst);
void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad);

void max_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y);
void avg_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y);
void resize_bilinear(Context& ctx, const Tensor& x, Tensor y);
void quantize_8bit(Context& ctx, const Tensor& x, Tensor y);
void copy_channels(Context& ctx, const Tensor& src, Tensor dst, int c0);

// Measuring (engine/timing.h).
std::vector<double> time_repeats_ms(Context& ctx, const std::function<void()>& fn, const TimingOptions& opt);
DeviceLimits measure_device_limits(Context& ctx);

// Every (convolution primitive, shape) searched so far with each algorithm cuDNN's Find ran
// and its timing of it, the chosen one marked (engine/cuda/conv_cudnn.cu; for dgbench).
std::vector<std::string> conv_algorithm_trials(Context& ctx);

// cuDNN's batchnorm + the separate activation kernel, the alternative dgbench times next to
// the fused kernels (engine/cuda/batchnorm_cudnn.cu). saved.mean/invstd (C) are filled by
// the forward; the backward needs the pre-activation output; dgamma/dbeta accumulate.
void cudnn_batchnorm_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                                   const Tensor& beta, Tensor running_mean, Tensor running_var, Tensor y,
                                   const BatchNormSaved& saved);
void cudnn_batchnorm_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                              const Tensor& gamma, const Tensor& y_pre_act, const BatchNormSaved& saved, Tensor dx,
                              Tensor dgamma, Tensor dbeta);

}  // namespace dg::cuda
