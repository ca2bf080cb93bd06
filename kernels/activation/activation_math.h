// The activation functions and their derivatives, one definition for the CPU body, the CUDA
// kernels and batchnorm's fused activation (DG_HD). Products and sums are rounded one at a
// time (kernels/float_ops.h); expf/log1pf/tanhf are libm's on the host and CUDA's on the
// device and may differ in the last bit or two.
#pragma once
#include <cmath>

#include "kernels/activation/activation.h"
#include "kernels/float_ops.h"

namespace dg::act {

// softplus(x) = log(1 + e^x), stable for large |x|.
DG_HD float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

DG_HD float forward(Activation a, float x) {
  switch (a.kind) {
    case Act::identity: return x;
    case Act::relu: return x > 0.0f ? x : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? x : fp::mul(a.slope, x);
    case Act::mish: return fp::mul(x, tanhf(softplus(x)));
    case Act::tanh: return tanhf(x);
  }
  return x;
}

// d act(x) / dx at the pre-activation x.
DG_HD float derivative(Activation a, float x) {
  using namespace fp;
  switch (a.kind) {
    case Act::identity: return 1.0f;
    case Act::relu: return x > 0.0f ? 1.0f : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? 1.0f : a.slope;
    case Act::mish: {  // mish = x tanh(sp(x)); d/dx = tanh(sp) + x (1 - tanh(sp)^2) sigmoid(x)
      const float t = tanhf(softplus(x)), sig = div(1.0f, add(1.0f, expf(-x)));
      return add(t, mul(mul(x, sub(1.0f, mul(t, t))), sig));
    }
    case Act::tanh: {
      const float t = tanhf(x);
      return sub(1.0f, mul(t, t));
    }
  }
  return 1.0f;
}

// act'(x) from y = act(x), where act_derivative_from_output(a): the value derivative(a, x) gives
// (with a slope >= 0, y > 0 exactly when x > 0, NaN included; tanh' = 1 - y^2 with y = tanhf(x)).
DG_HD float derivative_at_output(Activation a, float y) {
  using namespace fp;
  switch (a.kind) {
    case Act::identity: return 1.0f;
    case Act::relu: return y > 0.0f ? 1.0f : 0.0f;
    case Act::leaky_relu: return y > 0.0f ? 1.0f : a.slope;
    case Act::tanh: return sub(1.0f, mul(y, y));
    case Act::mish: break;  // (not invertible: the entry refuses it)
  }
  return NAN;
}

// CPU loops: an activation whose kind is part of its type converts to Activation{K, slope}.
template <Act K>
struct Fixed {
  float slope;
  operator Activation() const { return {K, slope}; }
};

// Calls body(Fixed<a.kind>{a.slope}). With a generic lambda as body, each activation gets its
// own copy of the loop, in which forward / derivative fold to one case: no switch per
// element, and the ReLU and LeakyReLU loops vectorize.
template <typename Body>
inline void with_kind(Activation a, Body&& body) {
  switch (a.kind) {
    case Act::identity: return body(Fixed<Act::identity>{a.slope});
    case Act::relu: return body(Fixed<Act::relu>{a.slope});
    case Act::leaky_relu: return body(Fixed<Act::leaky_relu>{a.slope});
    case Act::mish: return body(Fixed<Act::mish>{a.slope});
    case Act::tanh: return body(Fixed<Act::tanh>{a.slope});
  }
}

}  // namespace dg::act
