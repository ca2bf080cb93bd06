// A deterministic sum over one block, for the kernels whose reductions are small enough for
// one block per output (batchnorm channels, a batch of logits, a softmax row).
#pragma once

namespace dg::kernels {

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
