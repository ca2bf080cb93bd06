// What the flat (elementwise) kernels share: the grid-stride loop and the check that a
// tensor handed to a CUDA op lives on the GPU. Launch sizes: blocks_for
// (engine/cuda/cuda_context.h).
#pragma once
#include "engine/tensor.h"

// for (i = this thread's first index; i < n; i += all threads of the grid)
#define DG_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

namespace dg::kernels {

// An empty tensor (data == nullptr, "not wanted") passes.
inline void check_on_device(const Tensor& t, const char* op) {
  DG_CHECK(t.data == nullptr || t.device == Device::cuda, op, ": a ", device_name(t.device),
           " tensor was handed to a CUDA op");
}

}  // namespace dg::kernels
