// The activations' entries: sizes checked once, then the CPU body (activation_cpu.cpp) or
// the CUDA kernels (activation_cuda.cu); both apply activation_math.h.
#include "kernels/activation/activation.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(activation_forward)
DG_OP_BODIES(activation_backward)
DG_OP_BODIES(activation_backward_at_output)

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

bool act_derivative_from_output(Activation act) {
  switch (act.kind) {
    case Act::identity:
    case Act::relu:
    case Act::tanh: return true;
    case Act::leaky_relu: return act.slope >= 0.0f;
    case Act::mish: return false;
  }
  return false;
}

void activation_backward_at_output(Context& ctx, Activation act, const Tensor& y, const Tensor& dy, Tensor dx) {
  DG_CHECK(act_derivative_from_output(act), "activation_backward_at_output: ", act_name(act.kind),
           " (slope ", act.slope, ") has no derivative from its output alone");
  DG_CHECK(y.numel() == dy.numel() && y.numel() == dx.numel(), "activation_backward_at_output: y ", y.shape.str(),
           ", dy ", dy.shape.str(), ", dx ", dx.shape.str());
  DG_DISPATCH(ctx, activation_backward_at_output(ctx, act, y, dy, dx));
}

}  // namespace dg
