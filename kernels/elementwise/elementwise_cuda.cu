// Small elementwise kernels: axpy, scale, copy, the non-finite record and the step count. Grid-stride loops
// over flat tensors (kernels/launch.cuh); arguments checked by elementwise.cpp.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/launch.cuh"

namespace dg::cuda {

using kernels::check_on_device;

// y + alpha * x rounded twice, as the CPU's `y += alpha * x` (no fma).
static __global__ void axpy_kernel(float alpha, const float* x, float* y, int64_t n) {
  DG_GRID_STRIDE(i, n) y[i] = __fadd_rn(y[i], __fmul_rn(alpha, x[i]));
}

void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y) {
  check_on_device(x, "axpy");
  check_on_device(y, "axpy");
  if (x.numel() == 0) return;
  DG_LAUNCH(axpy_kernel, blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream, alpha, x.data, y.data, x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

static __global__ void scale_kernel(float* x, int64_t n, float alpha) { DG_GRID_STRIDE(i, n) x[i] *= alpha; }

void scale(Context& ctx, Tensor x, float alpha) {
  check_on_device(x, "scale");
  if (x.numel() == 0) return;
  DG_LAUNCH(scale_kernel, blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream, x.data, x.numel(), alpha);
  DG_CUDA_CHECK_LAUNCH();
}

void copy(Context& ctx, const Tensor& src, Tensor dst) {
  check_on_device(src, "copy");
  check_on_device(dst, "copy");
  if (src.numel() == 0) return;
  DG_CUDA_CHECK(cudaMemcpyAsync(dst.data, src.data, size_t(src.bytes()), cudaMemcpyDeviceToDevice, ctx.cuda().stream));
}

// One block: first_bad[0] = step + 1 when any value is not finite and nothing was recorded.
static __global__ void record_nonfinite_kernel(const float* v, int64_t n, StepIndex step, float* first_bad) {
  __shared__ int bad;
  if (threadIdx.x == 0) bad = 0;
  __syncthreads();
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    if (!isfinite(v[i])) bad = 1;  // benign race: every writer writes 1
  __syncthreads();
  if (threadIdx.x == 0 && bad && first_bad[0] == 0.0f) first_bad[0] = float(step.value() + 1);
}

void record_nonfinite(Context& ctx, const Tensor& values, StepIndex step, Tensor first_bad) {
  check_on_device(values, "record_nonfinite");
  check_on_device(first_bad, "record_nonfinite");
  DG_LAUNCH(record_nonfinite_kernel, 1, 256, 0, ctx.cuda().stream, values.data, values.numel(), step, first_bad.data);
  DG_CUDA_CHECK_LAUNCH();
}

static __global__ void count_step_kernel(int64_t* count) { ++*count; }

void count_step(Context& ctx, int64_t* count) {
  DG_LAUNCH(count_step_kernel, 1, 1, 0, ctx.cuda().stream, count);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
