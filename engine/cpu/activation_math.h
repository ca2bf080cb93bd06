// Scalar activation functions and their derivatives, in one place for the CPU ops
// (standalone and fused into batchnorm).
#pragma once
#include <cmath>

#include "engine/ops.h"

namespace dg::cpu {

// softplus(x) = log(1 + e^x), stable for large |x|.
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

inline float act_forward(Activation a, float x) {
  switch (a.kind) {
    case Act::identity: return x;
    case Act::relu: return x > 0.0f ? x : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? x : a.slope * x;
    case Act::mish: return x * std::tanh(softplus(x));
    case Act::tanh: return std::tanh(x);
  }
  return x;
}

// d act(x) / dx at the pre-activation x.
inline float act_derivative(Activation a, float x) {
  switch (a.kind) {
    case Act::identity: return 1.0f;
    case Act::relu: return x > 0.0f ? 1.0f : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? 1.0f : a.slope;
    case Act::mish: {
      // mish = x * tanh(sp(x)); d/dx = tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x)
      float t = std::tanh(softplus(x));
      float sig = 1.0f / (1.0f + std::exp(-x));
      return t + x * (1.0f - t * t) * sig;
    }
    case Act::tanh: {
      float t = std::tanh(x);
      return 1.0f - t * t;
    }
  }
  return 1.0f;
}

// An activation whose kind is part of its type: it converts to Activation{K, slope}.
template <Act K>
struct FixedActivation {
  float slope;
  operator Activation() const { return {K, slope}; }
};

// Calls body(FixedActivation<a.kind>{a.slope}). With a generic lambda as body, each
// activation gets its own copy of the loop, in which act_forward / act_derivative fold to
// one case: no switch per element, and the ReLU and LeakyReLU loops vectorize.
template <typename Body>
inline void with_activation(Activation a, Body&& body) {
  switch (a.kind) {
    case Act::identity: return body(FixedActivation<Act::identity>{a.slope});
    case Act::relu: return body(FixedActivation<Act::relu>{a.slope});
    case Act::leaky_relu: return body(FixedActivation<Act::leaky_relu>{a.slope});
    case Act::mish: return body(FixedActivation<Act::mish>{a.slope});
    case Act::tanh: return body(FixedActivation<Act::tanh>{a.slope});
  }
}

}  // namespace dg::cpu
