// The activations' entries: sizes checked once, then the CPU body (activation_cpu.cpp) or
// the CUDA kernels (activation_cuda.cu); both apply activation_math.h.
#include "kernels/activation/activation.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(activation_forward)
DG_OP_BODIES(activation_backward)

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
  DG_CHECK(x.numel() == y.numel(), "activation_forward: x ", x.shape.str(), " vs y ", y.shape.str());
  DG_DISPATCH(ctx, activation_forward(ctx, act, x, y));
}

void activation_backward(Context& ctx, Activation act, const Tensor& x, const Tensor& dy, Tensor dx) {
  DG_CHECK(x.numel() == dy.numel() && x.numel() == dx.numel(), "activation_backward: x ", x.shape.str(), ", dy ",
           dy.shape.str(), ", dx ", dx.shape.str());
  DG_DISPATCH(ctx, activation_backward(ctx, act, x, dy, dx));
}

}  // namespace dg
