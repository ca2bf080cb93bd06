// Activations: standalone (the first D layer's LeakyReLU, G's final Tanh) and fused into
// batchnorm (kernels/batchnorm). Elementwise over flat tensors.
#pragma once
#include "kernels/op.h"

namespace dg {

enum class Act { identity, relu, leaky_relu, mish, tanh };
struct Activation {
  Act kind = Act::identity;
  float slope = 0.2f;  // leaky_relu only
};
const char* act_name(Act a);

// y = act(x), elementwise; y may be x (in place).
void activation_forward(Context& ctx, Activation act, const Tensor& x, Tensor y);
// dx = dy * act'(x), from the pre-activation x; dx may be dy (in place)   [overwrite].
void activation_backward(Context& ctx, Activation act, const Tensor& x, const Tensor& dy, Tensor dx);

}  // namespace dg
