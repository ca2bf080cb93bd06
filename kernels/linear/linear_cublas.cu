// Fully connected layer on the GPU: the three products on cuBLAS (the context's handle,
// stream and math mode: TF32 by default, pedantic FP32 under strict_fp32), the bias add and
// the bias gradient as small kernels. Formulas: linear_cpu.cpp; shapes checked by linear.cpp.
//
// Row-major through a column-major BLAS: a row-major (R, C) matrix is, byte for byte, the
// column-major (C, R) matrix of its transpose. So every row-major product Z = A B is asked
// of cuBLAS as Z^T = B^T A^T, whose operands are the same buffers read column-major.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/linear/linear.h"
#include "kernels/launch.cuh"

namespace dg::cuda {

using kernels::check_on_device;

// y (N, O) += b (O) broadcast over rows.
static __global__ void add_bias_kernel(float* y, const float* b, int O, int64_t n) {
  DG_GRID_STRIDE(i, n) y[i] += b[i % O];
}

// db (O) += sum_n dy[n, o]: one thread per output, rows in order (the CPU's order, so the
// result agrees bit for bit); neighbouring threads read neighbouring floats of a row.
static __global__ void bias_grad_kernel(const float* dy, int N, int O, float* db) {
  const int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= O) return;
  float sum = 0.0f;
  for (int n = 0; n < N; n++) sum += dy[int64_t(n) * O + o];
  db[o] += sum;
}

void linear_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b, Tensor y) {
  const LinearDims d = linear_dims(x, w);
  for (const Tensor& t : {x, w, b, y}) check_on_device(t, "linear_forward");
  CudaState& cs = ctx.cuda();
  const float one = 1.0f, zero = 0.0f;
  // y^T (O, N) = w (O, I) . x^T (I, N): w's buffer read column-major is w^T (I, O), hence
  // OP_T; x's buffer read column-major is x^T (I, N) as it is.
  DG_CUBLAS_CHECK(cublasSgemm(cs.cublas, CUBLAS_OP_T, CUBLAS_OP_N, d.O, d.N, d.I, &one, w.data, d.I, x.data, d.I,
                              &zero, y.data, d.O));
  if (b.data == nullptr) return;
  const int64_t n = int64_t(d.N) * d.O;
  DG_LAUNCH(add_bias_kernel, blocks_for(n, 256), 256, 0, cs.stream, y.data, b.data, d.O, n);
  DG_CUDA_CHECK_LAUNCH();
}

void linear_backward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy, Tensor dx, Tensor dw,
                     Tensor db) {
  const LinearDims d = linear_dims(x, w);
  for (const Tensor& t : {x, w, dy, dx, dw, db}) check_on_device(t, "linear_backward");
  CudaState& cs = ctx.cuda();
  const float one = 1.0f, zero = 0.0f;
  if (dx.data) {
    // dx^T (I, N) = w^T (I, O) . dy^T (O, N): both buffers as they are, column-major.
    DG_CUBLAS_CHECK(cublasSgemm(cs.cublas, CUBLAS_OP_N, CUBLAS_OP_N, d.I, d.N, d.O, &one, w.data, d.I, dy.data, d.O,
                                &zero, dx.data, d.I));
  }
  if (dw.data) {
    // dw^T (I, O) += x^T (I, N) . dy (N, O): x's buffer as it is, dy's (read as dy^T) transposed.
    DG_CUBLAS_CHECK(cublasSgemm(cs.cublas, CUBLAS_OP_N, CUBLAS_OP_T, d.I, d.O, d.N, &one, x.data, d.I, dy.data, d.O,
                                &one, dw.data, d.I));
  }
  if (db.data) {
    DG_LAUNCH(bias_grad_kernel, (d.O + 255) / 256, 256, 0, cs.stream, dy.data, d.N, d.O, db.data);
    DG_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace dg::cuda
