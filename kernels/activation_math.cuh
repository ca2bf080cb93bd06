// Activation functions and their derivatives on the device: the same formulas as the CPU's
// engine/cpu/activation_math.h, used by the standalone activation kernels and by batchnorm.
#pragma once
#include "engine/ops.h"

namespace dg::kernels {

// Activation passed to kernels by value (Act is a plain enum).
struct ActParams {
  int kind;     // static_cast<int>(Act)
  float slope;  // leaky_relu
};
inline ActParams act_params(Activation a) { return {static_cast<int>(a.kind), a.slope}; }

__device__ __forceinline__ float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

__device__ __forceinline__ float act_forward(ActParams a, float x) {
  switch (a.kind) {
    case int(Act::relu): return x > 0.0f ? x : 0.0f;
    case int(Act::leaky_relu): return x > 0.0f ? x : a.slope * x;
    case int(Act::mish): return x * tanhf(softplus(x));
    case int(Act::tanh): return tanhf(x);
    default: return x;
  }
}

// d act(x) / dx at the pre-activation x.
__device__ __forceinline__ float act_derivative(ActParams a, float x) {
  switch (a.kind) {
    case int(Act::relu): return x > 0.0f ? 1.0f : 0.0f;
    case int(Act::leaky_relu): return x > 0.0f ? 1.0f : a.slope;
    case int(Act::mish): {
      const float t = tanhf(softplus(x)), sig = 1.0f / (1.0f + expf(-x));
      return t + x * (1.0f - t * t) * sig;
    }
    case int(Act::tanh): {
      const float t = tanhf(x);
      return 1.0f - t * t;
    }
    default: return 1.0f;
  }
}

// Sum of `v` over the block (blockDim.x a multiple of 32, at most 1024); every thread gets
// the result. `shared` holds 32 values. Deterministic: a fixed tree, no atomics.
template <typename T>
__device__ T block_sum(T v, T* shared) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // `shared` may still be read by a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  v = threadIdx.x < warps ? shared[threadIdx.x] : T(0);
  if (warp == 0)
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  if (threadIdx.x == 0) shared[0] = v;
  __syncthreads();
  return shared[0];
}

}  // namespace dg::kernels
