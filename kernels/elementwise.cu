// Elementwise kernels: the Philox normal fill, axpy, scale, copy, the non-finite record and
// the standalone activations. Grid-stride loops over flat tensors.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_ops.h"
#include "kernels/activation_math.cuh"
#include "kernels/philox.h"

namespace dg::cuda {

#define DG_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

static void check_device(const Tensor& t, const char* op) {
  DG_CHECK(t.data == nullptr || t.device == Device::cuda, op, ": a ", device_name(t.device),
           " tensor was handed to a CUDA op");
}

// t[i] = mean + std * normal(seed, stream, offset + i), rounded exactly as the CPU does.
static __global__ void fill_normal_kernel(float* t, int64_t n, float mean, float std, uint64_t seed, uint64_t stream,
                                          uint64_t offset) {
  DG_GRID_STRIDE(i, n) t[i] = rng::add(mean, rng::mul(std, rng::normal_at(seed, stream, offset + uint64_t(i))));
}

void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream, uint64_t offset) {
  check_device(t, "fill_normal");
  if (t.numel() == 0) return;
  fill_normal_kernel<<<blocks_for(t.numel(), 256), 256, 0, ctx.cuda().stream>>>(t.data, t.numel(), mean, std, seed,
                                                                                 stream, offset);
  DG_CUDA_CHECK_LAUNCH();
}

static __global__ void axpy_kernel(float alpha, const float* x, float* y, int64_t n) {
  DG_GRID_STRIDE(i, n) y[i] += alpha * x[i];
}

void axpy(Context& ctx, float alpha, const Tensor& x, Tensor y) {
  DG_CHECK(x.numel() == y.numel(), "axpy: x ", x.shape.str(), " vs y ", y.shape.str());
  check_device(x, "axpy");
  if (x.numel() == 0) return;
  axpy_kernel<<<blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream>>>(alpha, x.data, y.data, x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

static __global__ void scale_kernel(float* x, int64_t n, float alpha) { DG_GRID_STRIDE(i, n) x[i] *= alpha; }

void scale(Context& ctx, Tensor x, float alpha) {
  check_device(x, "scale");
  if (x.numel() == 0) return;
  scale_kernel<<<blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream>>>(x.data, x.numel(), alpha);
  DG_CUDA_CHECK_LAUNCH();
}

void copy(Context& ctx, const Tensor& src, Tensor dst) {
  DG_CHECK(src.numel() == dst.numel(), "copy: src ", src.shape.str(), " vs dst ", dst.shape.str());
  DG_CUDA_CHECK(cudaMemcpyAsync(dst.data, src.data, size_t(src.bytes()), cudaMemcpyDeviceToDevice, ctx.cuda().stream));
}

// One block: first_bad[0] = step + 1 when any value is not finite and nothing was recorded.
static __global__ void record_nonfinite_kernel(const float* v, int64_t n, float step_plus_1, float* first_bad) {
  __shared__ int bad;
  if (threadIdx.x == 0) bad = 0;
  __syncthreads();
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    if (!isfinite(v[i])) bad = 1;  // benign race: every writer writes 1
  __syncthreads();
  if (threadIdx.x == 0 && bad && first_bad[0] == 0.0f) first_bad[0] = step_plus_1;
}

void record_nonfinite(Context& ctx, const Tensor& values, int64_t step, Tensor first_bad) {
  record_nonfinite_kernel<<<1, 256, 0, ctx.cuda().stream>>>(values.data, values.numel(), float(step + 1),
                                                            first_bad.data);
  DG_CUDA_CHECK_LAUNCH();
}

static __global__ void activation_forward_kernel(kernels::ActParams a, const float* x, float* y, int64_t n) {
  DG_GRID_STRIDE(i, n) y[i] = kernels::act_forward(a, x[i]);
}

static __global__ void activation_backward_kernel(kernels::ActParams a, const float* x, const float* dy, float* dx,
                                                  int64_t n) {
  DG_GRID_STRIDE(i, n) dx[i] = dy[i] * kernels::act_derivative(a, x[i]);
}

void activation_forward(Context& ctx, Activation act, const Tensor& x, Tensor y) {
  DG_CHECK(x.numel() == y.numel(), "activation_forward: x ", x.shape.str(), " vs y ", y.shape.str());
  check_device(x, "activation_forward");
  if (x.numel() == 0) return;
  activation_forward_kernel<<<blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream>>>(kernels::act_params(act),
                                                                                        x.data, y.data, x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

void activation_backward(Context& ctx, Activation act, const Tensor& x, const Tensor& dy, Tensor dx) {
  DG_CHECK(x.numel() == dy.numel() && x.numel() == dx.numel(), "activation_backward: x ", x.shape.str(), ", dy ",
           dy.shape.str(), ", dx ", dx.shape.str());
  check_device(x, "activation_backward");
  if (x.numel() == 0) return;
  activation_backward_kernel<<<blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream>>>(
      kernels::act_params(act), x.data, dy.data, dx.data, x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
