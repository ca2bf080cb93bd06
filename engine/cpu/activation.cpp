// Standalone activations on the CPU (the ones batchnorm does not fuse: the first D layer's
// LeakyReLU and G's final Tanh).
#include "engine/cpu/activation_math.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "engine/cpu/parallel.h"

namespace dg {

const char* act_name(Act a) {
  switch (a) {
    case Act::identity: return "identity";
    case Act::relu: return "relu";
    case Act::leaky_relu: return "leaky_relu";
    case Act::mish: return "mish";
    case Act::tanh: return "tanh";
  }
  return "?";
}

void activation_forward(Context& ctx, Activation act, const Tensor& x, Tensor y) {
  DG_DISPATCH_CUDA(ctx, activation_forward(ctx, act, x, y));
  DG_CHECK(x.numel() == y.numel(), "activation_forward: x ", x.shape.str(), " vs y ", y.shape.str());
  const int64_t n = x.numel();
  cpu::with_activation(act, [&](auto a) {
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelMinWork)
    for (int64_t i = 0; i < n; i++) y.data[i] = cpu::act_forward(a, x.data[i]);
  });
}

void activation_backward(Context& ctx, Activation act, const Tensor& x, const Tensor& dy, Tensor dx) {
  DG_DISPATCH_CUDA(ctx, activation_backward(ctx, act, x, dy, dx));
  DG_CHECK(x.numel() == dy.numel() && x.numel() == dx.numel(), "activation_backward: x ", x.shape.str(),
           ", dy ", dy.shape.str(), ", dx ", dx.shape.str());
  const int64_t n = x.numel();
  cpu::with_activation(act, [&](auto a) {
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelMinWork)
    for (int64_t i = 0; i < n; i++) dx.data[i] = dy.data[i] * cpu::act_derivative(a, x.data[i]);
  });
}

}  // namespace dg
