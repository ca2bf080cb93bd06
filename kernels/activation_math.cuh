// Activation functions and their derivatives on the device: the same formulas as the CPU's
// engine/cpu/activation_math.h, used by the standalone activation kernels and by batchnorm.
// Products and sums are spelled with _rn intrinsics in the CPU's order so nvcc does not fuse
// them into fmas; expf/log1pf/tanhf still differ from glibc's in the last bit or two.
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
    case int(Act::leaky_relu): return x > 0.0f ? x : __fmul_rn(a.slope, x);
    case int(Act::mish): return __fmul_rn(x, tanhf(softplus(x)));
    case int(Act::tanh): return tanhf(x);
    default: return x;
  }
}

// d act(x) / dx at the pre-activation x.
__device__ __forceinline__ float act_derivative(ActParams a, float x) {
  switch (a.kind) {
    case int(Act::relu): return x > 0.0f ? 1.0f : 0.0f;
    case int(Act::leaky_relu): return x > 0.0f ? 1.0f : a.slope;
    case int(Act::mish): {  // tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x)
      const float t = tanhf(softplus(x)), sig = __fdiv_rn(1.0f, __fadd_rn(1.0f, expf(-x)));
      return __fadd_rn(t, __fmul_rn(__fmul_rn(x, __fsub_rn(1.0f, __fmul_rn(t, t))), sig));
    }
    case int(Act::tanh): {
      const float t = tanhf(x);
      return __fsub_rn(1.0f, __fmul_rn(t, t));
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
  v = int(threadIdx.x) < warps ? shared[threadIdx.x] : T(0);
  if (warp == 0)
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  if (threadIdx.x == 0) shared[0] = v;
  __syncthreads();
  return shared[0];
}

}  // namespace dg::kernels
