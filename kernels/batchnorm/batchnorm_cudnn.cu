// cuDNN's batchnorm followed by the separate activation kernel: the alternative dgbench
// times next to dg's fused kernels (batchnorm_cuda.cu). Not used in training. cuDNN keeps
// the batch mean and inverse std for its backward in `saved` (the same meaning as ours).
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/activation/activation.h"
#include "kernels/batchnorm/batchnorm.h"

namespace dg::cuda {

namespace {
struct BnDescs {
  cudnnTensorDescriptor_t x = nullptr, channel = nullptr;
  explicit BnDescs(const Tensor& t) {
    DG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    DG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&channel));
    DG_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, t.n(), t.c(), t.h(), t.w()));
    DG_CUDNN_CHECK(cudnnSetTensor4dDescriptor(channel, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, t.c(), 1, 1));
  }
  ~BnDescs() {
    cudnnDestroyTensorDescriptor(channel);
    cudnnDestroyTensorDescriptor(x);
  }
  BnDescs(const BnDescs&) = delete;
  BnDescs& operator=(const BnDescs&) = delete;
};
}  // namespace

void cudnn_batchnorm_forward_train(Context& ctx, const BatchNormConfig& cfg, const Tensor& x, const Tensor& gamma,
                                   const Tensor& beta, Tensor running_mean, Tensor running_var, Tensor y,
                                   const BatchNormSaved& saved) {
  BnDescs d(x);
  const float one = 1.0f, zero = 0.0f;
  DG_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      ctx.cuda().cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x, x.data, d.x, y.data, d.channel, gamma.data,
      beta.data, cfg.momentum, running_mean.data, running_var.data, cfg.eps, saved.mean.data, saved.invstd.data));
  if (cfg.act.kind != Act::identity) dg::activation_forward(ctx, cfg.act, y, y);
}

void cudnn_batchnorm_backward(Context& ctx, const BatchNormConfig& cfg, const Tensor& dy, const Tensor& x,
                              const Tensor& gamma, const Tensor& y_pre_act, const BatchNormSaved& saved, Tensor dx,
                              Tensor dgamma, Tensor dbeta) {
  BnDescs d(x);
  // Through the activation first (at the pre-activation BN output), then cuDNN's backward.
  WorkspaceScope scratch(ctx);
  Tensor dz = ctx.alloc(dy.shape);
  dg::activation_backward(ctx, cfg.act, y_pre_act, dy, dz);
  const float one = 1.0f, zero = 0.0f;
  DG_CUDNN_CHECK(cudnnBatchNormalizationBackward(ctx.cuda().cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &one,
                                                 d.x, x.data, d.x, dz.data, d.x, dx.data, d.channel, gamma.data,
                                                 dgamma.data, dbeta.data, cfg.eps, saved.mean.data,
                                                 saved.invstd.data));
}

}  // namespace dg::cuda
