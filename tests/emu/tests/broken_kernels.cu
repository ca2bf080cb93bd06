// Kernels for the emulator's self-tests (selftest.cpp), most of them broken on purpose, each
// beside the correct version where there is one. Built only under -DDG_CUDA=EMU.
#include "tests/emu/tests/broken_kernels.h"

#include "kernels/launch.cuh"

namespace emutest {

// Sum of x[0..255] in out[0] by a tree in shared memory; `sync` false drops the barriers.
static __global__ void tree_sum_kernel(const float* x, float* out, bool sync) {
  __shared__ float s[256];
  const int t = threadIdx.x;
  s[t] = x[t];
  if (sync) __syncthreads();
  for (int stride = 128; stride > 0; stride /= 2) {
    if (t < stride) s[t] += s[t + stride];
    if (sync) __syncthreads();
  }
  if (t == 0) out[0] = s[0];
}
cudaError_t tree_sum(const float* x, float* out, bool sync, cudaStream_t s) {
  DG_LAUNCH(tree_sum_kernel, 1, 256, 0, s, x, out, sync);
  return cudaGetLastError();
}

// Half the block waits at a barrier the other half never reaches.
static __global__ void divergent_barrier_kernel(float* out) {
  if (threadIdx.x < 16) __syncthreads();
  out[threadIdx.x] = 1.0f;
}
cudaError_t divergent_barrier(float* out, cudaStream_t s) {
  DG_LAUNCH(divergent_barrier_kernel, 1, 64, 0, s, out);
  return cudaGetLastError();
}

// Lanes of one warp at two different shuffles.
static __global__ void divergent_shuffle_kernel(float* out) {
  float v = float(threadIdx.x);
  if (threadIdx.x % 2) v = __shfl_down_sync(0xffffffffu, v, 1);
  else v = __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}
cudaError_t divergent_shuffle(float* out, cudaStream_t s) {
  DG_LAUNCH(divergent_shuffle_kernel, 1, 32, 0, s, out);
  return cudaGetLastError();
}

// out[i] = 2 x[i] for i in [0, n], one element too many.
static __global__ void off_by_one_kernel(const float* x, float* out, int n) {
  for (int i = threadIdx.x; i <= n; i += blockDim.x) out[i] = 2.0f * x[i < n ? i : 0];
}
cudaError_t off_by_one(const float* x, float* out, int n, cudaStream_t s) {
  DG_LAUNCH(off_by_one_kernel, 1, 64, 0, s, x, out, n);
  return cudaGetLastError();
}

// out[i] = x[i] + 1: correct, for reads of memory nobody wrote and for stream order.
static __global__ void add_one_kernel(const float* x, float* out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) out[i] = x[i] + 1.0f;
}
cudaError_t add_one(const float* x, float* out, int n, cudaStream_t s) {
  DG_LAUNCH(add_one_kernel, 4, 32, 0, s, x, out, n);
  return cudaGetLastError();
}

static __global__ void fill_kernel(float* out, int n, float v) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) out[i] = v;
}
cudaError_t fill(float* out, int n, float v, cudaStream_t s) {
  DG_LAUNCH(fill_kernel, 4, 32, 0, s, out, n, v);
  return cudaGetLastError();
}

// A conditional node's value: set to 1 when x[0] > 0, left alone otherwise.
static __global__ void set_if_positive_kernel(cudaGraphConditionalHandle h, const float* x) {
  if (threadIdx.x == 0 && x[0] > 0.0f) cudaGraphSetConditional(h, 1u);
}
cudaError_t set_if_positive(cudaGraphConditionalHandle h, const float* x, cudaStream_t s) {
  DG_LAUNCH(set_if_positive_kernel, 1, 32, 0, s, h, x);
  return cudaGetLastError();
}

// Threads 0 and 1 each wait for the other's flag before setting their own: a deadlock, on a
// GPU as here, in any order.
static __global__ void spin_kernel(volatile int* flag) {
  const int me = threadIdx.x, other = 1 - me;
  if (me > 1) return;
  while (flag[other] == 0) {
  }
  flag[me] = 1;
}
cudaError_t spin(int* flag, cudaStream_t s) {
  DG_LAUNCH(spin_kernel, 1, 32, 0, s, flag);
  return cudaGetLastError();
}

// Prefix sums in dynamic shared memory: out[i] = x[0] + ... + x[i] (one block of n <= 1024).
static __global__ void scan_kernel(const float* x, float* out, int n) {
  DG_DYNAMIC_SHARED(float, s);
  const int t = threadIdx.x;
  s[t] = x[t];
  __syncthreads();
  for (int d = 1; d < n; d *= 2) {
    const float v = t >= d ? s[t - d] : 0.0f;
    __syncthreads();
    s[t] += v;
    __syncthreads();
  }
  out[t] = s[t];
}
cudaError_t scan(const float* x, float* out, int n, cudaStream_t s) {
  DG_LAUNCH(scan_kernel, 1, n, n * sizeof(float), s, x, out, n);
  return cudaGetLastError();
}

// Warp votes and shuffles with partial masks: lanes 0..15 take part.
static __global__ void half_warp_kernel(const float* x, float* out, unsigned* ballot) {
  const unsigned lane = threadIdx.x;
  if (lane >= 16) return;
  float v = x[lane];
  for (int off = 8; off > 0; off /= 2) v += __shfl_xor_sync(0x0000ffffu, v, off);
  const unsigned b = __ballot_sync(0x0000ffffu, x[lane] > 0.0f);
  out[lane] = v;
  if (lane == 0) ballot[0] = b;
}
cudaError_t half_warp(const float* x, float* out, unsigned* ballot, cudaStream_t s) {
  DG_LAUNCH(half_warp_kernel, 1, 32, 0, s, x, out, ballot);
  return cudaGetLastError();
}

static __global__ void too_big_kernel(float* out) { out[0] = 0; }
cudaError_t too_big_block(float* out, cudaStream_t s) {
  DG_LAUNCH(too_big_kernel, 1, 1025, 0, s, out);
  return cudaGetLastError();
}

}  // namespace emutest
