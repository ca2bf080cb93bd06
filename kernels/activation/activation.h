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

// Whether act'(x) follows from y = act(x) alone (identity, ReLU, LeakyReLU with slope >= 0,
// tanh; not Mish): a layer can then overwrite x with y and keep y alone for its backward.
bool act_derivative_from_output(Activation act);
// The same dx as activation_backward, bit for bit, from the output y = act(x) instead of x
// (act_derivative_from_output(act) must hold); dx may be dy   [overwrite].
void activation_backward_at_output(Context& ctx, Activation act, const Tensor& y, const Tensor& dy, Tensor dx);

}  // namespace dg
