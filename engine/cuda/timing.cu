// Measuring on the GPU (engine/timing.h): CUDA events on the context's stream, the L2 cache
// flushed before each repeat, copy bandwidth from a device-to-device copy, the math rate
// from a cuBLAS SGEMM in the context's math mode (TF32 tensor cores unless strict FP32).
#include <string>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_timing.h"
#include "engine/timing.h"

namespace dg::cuda {

namespace {
// Device memory outside the arena, for the duration of a measurement.
struct DeviceBuffer {
  void* p = nullptr;
  explicit DeviceBuffer(size_t bytes) { DG_CUDA_CHECK(cudaMalloc(&p, bytes)); }
  ~DeviceBuffer() { cudaFree(p); }
};
}  // namespace

std::vector<double> time_repeats_ms(Context& ctx, const std::function<void()>& fn, const TimingOptions& opt) {
  DG_CHECK(opt.repeats >= 1 && opt.warmup >= 0, "time_repeats_ms: repeats ", opt.repeats, ", warmup ", opt.warmup);
  CudaState& cs = ctx.cuda();
  int l2 = 0;
  DG_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, cs.device));
  DeviceBuffer flush(opt.flush_l2 ? size_t(2) * size_t(l2) : 1);
  for (int i = 0; i < opt.warmup; i++) fn();
  std::vector<cudaEvent_t> start(size_t(opt.repeats)), stop(size_t(opt.repeats));
  for (int i = 0; i < opt.repeats; i++) {
    DG_CUDA_CHECK(cudaEventCreate(&start[size_t(i)]));
    DG_CUDA_CHECK(cudaEventCreate(&stop[size_t(i)]));
  }
  for (int i = 0; i < opt.repeats; i++) {
    if (opt.flush_l2) DG_CUDA_CHECK(cudaMemsetAsync(flush.p, i & 0xff, size_t(2) * size_t(l2), cs.stream));
    DG_CUDA_CHECK(cudaEventRecord(start[size_t(i)], cs.stream));
    fn();
    DG_CUDA_CHECK(cudaEventRecord(stop[size_t(i)], cs.stream));
  }
  DG_CUDA_CHECK(cudaStreamSynchronize(cs.stream));
  std::vector<double> ms;
  for (int i = 0; i < opt.repeats; i++) {
    float t = 0;
    DG_CUDA_CHECK(cudaEventElapsedTime(&t, start[size_t(i)], stop[size_t(i)]));
    ms.push_back(t);
    cudaEventDestroy(start[size_t(i)]);
    cudaEventDestroy(stop[size_t(i)]);
  }
  return ms;
}

DeviceLimits measure_device_limits(Context& ctx) {
  CudaState& cs = ctx.cuda();
  DeviceLimits lim;
  const size_t bytes = size_t(512) << 20;
  {
    DeviceBuffer a(bytes), b(bytes);
    DG_CUDA_CHECK(cudaMemsetAsync(a.p, 0, bytes, cs.stream));
    const double ms = median(cuda::time_repeats_ms(ctx, [&] {
      DG_CUDA_CHECK(cudaMemcpyAsync(b.p, a.p, bytes, cudaMemcpyDeviceToDevice, cs.stream));
    }, {2, 10, false}));
    lim.copy_gb_s = 2.0 * double(bytes) / (ms * 1e-3) / 1e9;
  }
  {
    const int n = 8192;
    DeviceBuffer a(size_t(n) * n * 4), b(size_t(n) * n * 4), c(size_t(n) * n * 4);
    DG_CUDA_CHECK(cudaMemsetAsync(a.p, 0, size_t(n) * n * 4, cs.stream));
    DG_CUDA_CHECK(cudaMemsetAsync(b.p, 0, size_t(n) * n * 4, cs.stream));
    const float one = 1.0f, zero = 0.0f;
    const double ms = median(cuda::time_repeats_ms(ctx, [&] {
      DG_CUBLAS_CHECK(cublasSgemm(cs.cublas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, static_cast<float*>(a.p), n,
                                  static_cast<float*>(b.p), n, &zero, static_cast<float*>(c.p), n));
    }, {2, 10, false}));
    lim.gemm_tflop_s = 2.0 * double(n) * n * n / (ms * 1e-3) / 1e12;
  }
  cudaDeviceProp prop{};
  DG_CUDA_CHECK(cudaGetDeviceProperties(&prop, cs.device));
  lim.describe = std::string(prop.name) + ": cudaMemcpy D2D of 512 MB, cuBLAS SGEMM 8192^3 (" +
                 (cs.strict_fp32 ? "strict FP32" : "TF32 tensor cores") + ")";
  return lim;
}

}  // namespace dg::cuda
