// What every kernel launch site shares: the launch helper, the grid-stride loop and the check
// that a tensor handed to a CUDA op lives on the GPU. Launch sizes: blocks_for
// (engine/cuda/cuda_context.h).
#pragma once
#include "engine/tensor.h"

// DG_LAUNCH(kernel, grid, block, shared_bytes, stream, args...): the one way dg launches a
// kernel (CI checks that no `<<<` appears anywhere else). Under nvcc it is exactly
// kernel<<<grid, block, shared_bytes, stream>>>(args...); in the emulator build
// (-DDG_CUDA=EMU, tests/emu) it queues the kernel on the emulated stream, naming the kernel and
// this launch site in every diagnostic. Errors surface in cudaGetLastError (DG_CUDA_CHECK_LAUNCH).
// DG_DYNAMIC_SHARED(T, name) declares the launch's dynamic shared memory as T name[].
#if defined(__CUDACC__)
#define DG_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  kernel<<<(grid), (block), (shared_bytes), (stream)>>>(__VA_ARGS__)
#define DG_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#elif defined(DG_CUDA_EMU)
#define DG_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)                                          \
  ::dgemu::launch({#kernel, __FILE__, __LINE__}, kernel, (grid), (block), (shared_bytes), (stream) __VA_OPT__(, ) \
                      __VA_ARGS__)
#define DG_DYNAMIC_SHARED(T, name) DGEMU_DYNAMIC_SHARED(T, name)
#endif

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
