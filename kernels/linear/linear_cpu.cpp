// Fully connected layer on the CPU: one Eigen GEMM per product, the bias as a row loop.
// Shapes are checked by linear.cpp.
//   forward:  y  = x w^T + b      (N, I) x (I, O) -> (N, O)
//   backward: dx = dy w           (N, O) x (O, I) -> (N, I)   [overwrite]
//             dw += dy^T x        (O, N) x (N, I) -> (O, I)   [accumulate]
//             db += sum_n dy[n]                    -> (O)      [accumulate]
#include "engine/cpu/eigen_maps.h"
#include "kernels/linear/linear.h"

namespace dg::cpu {

void linear_forward(Context&, const Tensor& x, const Tensor& w, const Tensor& b, Tensor y) {
  const LinearDims d = linear_dims(x, w);
  MapRM(y.data, d.N, d.O).noalias() =
      ConstMapRM(x.data, d.N, d.I) * ConstMapRM(w.data, d.O, d.I).transpose();
  if (b.data == nullptr) return;
  for (int n = 0; n < d.N; n++)
    for (int o = 0; o < d.O; o++) y.data[int64_t(n) * d.O + o] += b.data[o];
}

void linear_backward(Context&, const Tensor& x, const Tensor& w, const Tensor& dy, Tensor dx, Tensor dw,
                     Tensor db) {
  const LinearDims d = linear_dims(x, w);
  if (dx.data) {
    MapRM(dx.data, d.N, d.I).noalias() = ConstMapRM(dy.data, d.N, d.O) * ConstMapRM(w.data, d.O, d.I);
  }
  if (dw.data) {
    MapRM(dw.data, d.O, d.I).noalias() +=
        ConstMapRM(dy.data, d.N, d.O).transpose() * ConstMapRM(x.data, d.N, d.I);
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

}  // namespace dg::cpu
