#include "engine/cuda/cuda_context.h"

#include <dlfcn.h>

#include "engine/context.h"
#include "engine/cuda/cuda_check.h"
#include "kernels/launch.cuh"
#ifdef DG_CUDA_EMU
#include "dgemu/introspect.h"
#endif

namespace dg {

bool cuda_built() { return true; }

// Whether an NVIDIA driver is installed at all: without one the runtime answers
// cudaErrorInsufficientDriver too, and that means "no device here", not a broken one.
static bool driver_installed() {
#ifdef DG_CUDA_EMU
  return true;  // the emulator is the driver
#else
  void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (h) dlclose(h);
  return h != nullptr;
#endif
}

int cuda_device_count() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e == cudaSuccess) return n;
  cudaGetLastError();  // leave no error behind for a later check
  if (e == cudaErrorNoDevice || (e == cudaErrorInsufficientDriver && !driver_installed())) return 0;
  DG_FAIL("the CUDA runtime fails: cudaGetDeviceCount: ", cudaGetErrorName(e), ": ", cudaGetErrorString(e),
          " (a driver older than the CUDA runtime, or a broken installation)");
}

bool cuda_available() { return cuda_device_count() > 0; }

CudaState::CudaState(int dev, bool strict) : device(dev), strict_fp32(strict) {
  try {
    int n = 0;
    DG_CUDA_CHECK(cudaGetDeviceCount(&n));
    DG_CHECK(dev >= 0 && dev < n, "CUDA device ", dev, " does not exist (", n, " visible)");
    DG_CUDA_CHECK(cudaSetDevice(dev));
    DG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    DG_CUDNN_CHECK(cudnnCreate(&cudnn));
    DG_CUDNN_CHECK(cudnnSetStream(cudnn, stream));
    DG_CUBLAS_CHECK(cublasCreate(&cublas));
    DG_CUBLAS_CHECK(cublasSetStream(cublas, stream));
    // TF32 tensor-core GEMMs unless strict FP32 was asked for (PyTorch's default for convs).
    DG_CUBLAS_CHECK(cublasSetMathMode(cublas, strict ? CUBLAS_PEDANTIC_MATH : CUBLAS_TF32_TENSOR_OP_MATH));
  } catch (...) {
    release();  // a throwing constructor runs no destructor
    throw;
  }
}

CudaState::~CudaState() { release(); }

void CudaState::release() {
  if (cublas) cublasDestroy(cublas);
  if (cudnn) cudnnDestroy(cudnn);
  if (stream) cudaStreamDestroy(stream);
  cublas = nullptr;
  cudnn = nullptr;
  stream = nullptr;
}

ArenaBacking CudaState::device_backing() {
  ArenaBacking b;
  b.allocate = [](size_t bytes) {
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // out of memory is not sticky: clear it so later checks see no error
      size_t free_bytes = 0, total_bytes = 0;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      DG_FAIL("out of GPU memory: asked for ", bytes, " bytes, ", free_bytes, " of ", total_bytes,
              " bytes free; try a smaller --batch-size");
    }
    DG_CUDA_CHECK(err);
    return p;
  };
  b.release = [](void* p) { cudaFree(p); };
  b.name = "cuda";
#ifdef DG_CUDA_EMU
  // The emulator's device memory is host memory: in stream order, it fills fresh arena ranges
  // with NaN (a read of a tensor nobody wrote shows) and, under ASan, poisons free ranges and
  // the guard zones between tensors (a write past a tensor's end is a report).
  cudaStream_t s = stream;
  b.on_change = [s](void* p, size_t bytes, bool in_use) { DG_CUDA_CHECK(dgemu_mark_async(p, bytes, in_use, s)); };
#endif
  return b;
}

void CudaState::copy_to_device(float* dst, const float* src, size_t bytes) {
  DG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
  DG_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void CudaState::copy_to_host(float* dst, const float* src, size_t bytes) {
  DG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
  DG_CUDA_CHECK(cudaStreamSynchronize(stream));
}

static __global__ void fill_kernel(float* p, int64_t n, float value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = value;
}

void CudaState::fill(float* p, int64_t n, float value) {
  if (n == 0) return;
  DG_LAUNCH(fill_kernel, blocks_for(n, 256), 256, 0, stream, p, n, value);
  DG_CUDA_CHECK_LAUNCH();
}

void CudaState::synchronize() { DG_CUDA_CHECK(cudaStreamSynchronize(stream)); }

}  // namespace dg
