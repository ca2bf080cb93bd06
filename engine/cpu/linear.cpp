// Fully connected layer on the CPU: one Eigen GEMM per product, the bias as a row loop.
// Shapes and the gradient convention are in engine/ops.h.
//   forward:  y  = x w^T + b      (N, I) x (I, O) -> (N, O)
//   backward: dx = dy w           (N, O) x (O, I) -> (N, I)   [overwrite]
//             dw += dy^T x        (O, N) x (N, I) -> (O, I)   [accumulate]
//             db += sum_n dy[n]                    -> (O)      [accumulate]
#include "engine/cpu/eigen_maps.h"
#include "engine/dispatch.h"
#include "engine/op_checks.h"
#include "engine/ops.h"

namespace dg {

void linear_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b, Tensor y) {
  DG_DISPATCH_CUDA(ctx, linear_forward(ctx, x, w, b, y));
  const LinearDims d = check_linear_args(x, w, b, y, "linear_forward");
  cpu::MapRM(y.data, d.N, d.O).noalias() =
      cpu::ConstMapRM(x.data, d.N, d.I) * cpu::ConstMapRM(w.data, d.O, d.I).transpose();
  if (b.data == nullptr) return;
  for (int n = 0; n < d.N; n++)
    for (int o = 0; o < d.O; o++) y.data[int64_t(n) * d.O + o] += b.data[o];
}

void linear_backward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy, Tensor dx, Tensor dw,
                     Tensor db) {
  DG_DISPATCH_CUDA(ctx, linear_backward(ctx, x, w, dy, dx, dw, db));
  const LinearDims d = check_linear_args(x, w, db, dy, "linear_backward");
  if (dx.data) {
    check_shape(dx, x.shape, "linear_backward dx");
    cpu::MapRM(dx.data, d.N, d.I).noalias() = cpu::ConstMapRM(dy.data, d.N, d.O) * cpu::ConstMapRM(w.data, d.O, d.I);
  }
  if (dw.data) {
    check_shape(dw, w.shape, "linear_backward dw");
    cpu::MapRM(dw.data, d.O, d.I).noalias() +=
        cpu::ConstMapRM(dy.data, d.N, d.O).transpose() * cpu::ConstMapRM(x.data, d.N, d.I);
  }
  if (db.data) {
    // Per output: the batch sum in float, n ascending, then added once (the CUDA kernel
    // sums in the same order, so db agrees bit for bit).
    for (int o = 0; o < d.O; o++) {
      float sum = 0.0f;
      for (int n = 0; n < d.N; n++) sum += dy.data[int64_t(n) * d.O + o];
      db.data[o] += sum;
    }
  }
}

}  // namespace dg
