// Standalone activations on the device (the ones batchnorm does not fuse: the first D
// layer's LeakyReLU and G's final Tanh), elementwise over flat tensors. The scalar math is
// kernels/activation_math.cuh, shared with batchnorm; the CPU twin is engine/cpu/activation.cpp.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_ops.h"
#include "kernels/activation_math.cuh"
#include "kernels/launch.cuh"

namespace dg::cuda {

using kernels::check_on_device;

// y = act(x); y may be x.
static __global__ void activation_forward_kernel(kernels::ActParams a, const float* x, float* y, int64_t n) {
  DG_GRID_STRIDE(i, n) y[i] = kernels::act_forward(a, x[i]);
}

// dx = dy * act'(x) at the pre-activation x   [overwrite; dx may be dy].
static __global__ void activation_backward_kernel(kernels::ActParams a, const float* x, const float* dy, float* dx,
                                                  int64_t n) {
  DG_GRID_STRIDE(i, n) dx[i] = __fmul_rn(dy[i], kernels::act_derivative(a, x[i]));
}

void activation_forward(Context& ctx, Activation act, const Tensor& x, Tensor y) {
  DG_CHECK(x.numel() == y.numel(), "activation_forward: x ", x.shape.str(), " vs y ", y.shape.str());
  check_on_device(x, "activation_forward");
  check_on_device(y, "activation_forward");
  if (x.numel() == 0) return;
  DG_LAUNCH(activation_forward_kernel, blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream, kernels::act_params(act),
            x.data, y.data, x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

void activation_backward(Context& ctx, Activation act, const Tensor& x, const Tensor& dy, Tensor dx) {
  DG_CHECK(x.numel() == dy.numel() && x.numel() == dx.numel(), "activation_backward: x ", x.shape.str(), ", dy ",
           dy.shape.str(), ", dx ", dx.shape.str());
  check_on_device(x, "activation_backward");
  check_on_device(dy, "activation_backward");
  check_on_device(dx, "activation_backward");
  if (x.numel() == 0) return;
  DG_LAUNCH(activation_backward_kernel, blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream, kernels::act_params(act),
            x.data, dy.data, dx.data, x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
