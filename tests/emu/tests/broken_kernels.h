// The self-tests' kernels (broken_kernels.cu): each launches on stream `s` and returns the
// launch's error.
#pragma once
#include <cuda_runtime.h>

namespace emutest {

cudaError_t tree_sum(const float* x, float* out, bool sync, cudaStream_t s);
cudaError_t divergent_barrier(float* out, cudaStream_t s);
cudaError_t divergent_shuffle(float* out, cudaStream_t s);
cudaError_t off_by_one(const float* x, float* out, int n, cudaStream_t s);
cudaError_t add_one(const float* x, float* out, int n, cudaStream_t s);
cudaError_t fill(float* out, int n, float v, cudaStream_t s);
cudaError_t set_if_positive(cudaGraphConditionalHandle h, const float* x, cudaStream_t s);
cudaError_t spin(int* flag, cudaStream_t s);
cudaError_t scan(const float* x, float* out, int n, cudaStream_t s);
cudaError_t half_warp(const float* x, float* out, unsigned* ballot, cudaStream_t s);
cudaError_t too_big_block(float* out, cudaStream_t s);

}  // namespace emutest
