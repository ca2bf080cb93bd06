// The standalone activations on the device, elementwise over flat tensors, with the CPU's
// math (activation_math.h).
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/activation/activation_math.h"
#include "kernels/launch.cuh"

namespace dg::cuda {

using kernels::check_on_device;

// y = act(x); y may be x.
static __global__ void activation_forward_kernel(Activation a, const float* x, float* y, int64_t n) {
  DG_GRID_STRIDE(i, n) y[i] = act::forward(a, x[i]);
}

// dx = dy * act'(x) at the pre-activation x   [overwrite; dx may be dy].
static __global__ void activation_backward_kernel(Activation a, const float* x, const float* dy, float* dx,
                                                  int64_t n) {
  DG_GRID_STRIDE(i, n) dx[i] = fp::mul(dy[i], act::derivative(a, x[i]));
}

// dx = dy * act'(x) from the output y = act(x)   [overwrite; dx may be dy].
static __global__ void activation_backward_at_output_kernel(Activation a, const float* y, const float* dy, float* dx,
                                                            int64_t n) {
  DG_GRID_STRIDE(i, n) dx[i] = fp::mul(dy[i], act::derivative_at_output(a, y[i]));
}

void activation_forward(Context& ctx, Activation act, const Tensor& x, Tensor y) {
  check_on_device(x, "activation_forward");
  check_on_device(y, "activation_forward");
  if (x.numel() == 0) return;
  DG_LAUNCH(activation_forward_kernel, blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream, act, x.data, y.data,
            x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

void activation_backward(Context& ctx, Activation act, const Tensor& x, const Tensor& dy, Tensor dx) {
  check_on_device(x, "activation_backward");
  check_on_device(dy, "activation_backward");
  check_on_device(dx, "activation_backward");
  if (x.numel() == 0) return;
  DG_LAUNCH(activation_backward_kernel, blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream, act, x.data, dy.data,
            dx.data, x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

void activation_backward_at_output(Context& ctx, Activation act, const Tensor& y, const Tensor& dy, Tensor dx) {
  check_on_device(y, "activation_backward_at_output");
  check_on_device(dy, "activation_backward_at_output");
  check_on_device(dx, "activation_backward_at_output");
  if (y.numel() == 0) return;
  DG_LAUNCH(activation_backward_at_output_kernel, blocks_for(y.numel(), 256), 256, 0, ctx.cuda().stream, act, y.data,
            dy.data, dx.data, y.numel());
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
