// The linear layer's entries: shapes checked once, then the CPU body (linear_cpu.cpp, Eigen)
// or the CUDA body (linear_cublas.cu, cuBLAS).
#include "kernels/linear/linear.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(linear_forward)
DG_OP_BODIES(linear_backward)

// x (N, ...) with I = the product of its other dims, w (O, I), b (O) or empty, and `out`
// (N, O) (y or dy).
static void check_linear_args(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out, const char* op) {
  DG_CHECK(x.shape.rank >= 1 && x.n() > 0, op, ": input must be (N, ...), got ", x.shape.str());
  DG_CHECK(w.shape.rank == 2, op, ": weight must be (O, I), got ", w.shape.str());
  const int N = x.n(), O = w.dim(0);
  const int64_t I = x.numel() / N;
  DG_CHECK(I == w.dim(1), op, ": input ", x.shape.str(), " has ", I, " features per sample, the weight ",
           w.shape.str(), " expects ", w.dim(1));
  DG_CHECK(b.data == nullptr || (b.shape.rank == 1 && b.dim(0) == O), op, ": bias ", b.shape.str(),
           " does not match the weight ", w.shape.str());
  check_shape(out, {N, O}, op);
}

void linear_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b, Tensor y) {
  check_linear_args(x, w, b, y, "linear_forward");
  DG_DISPATCH(ctx, linear_forward(ctx, x, w, b, y));
}

void linear_backward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy, Tensor dx, Tensor dw,
                     Tensor db) {
  check_linear_args(x, w, db, dy, "linear_backward");
  if (dx.data) check_shape(dx, x.shape, "linear_backward dx");
  if (dw.data) check_shape(dw, w.shape, "linear_backward dw");
  DG_DISPATCH(ctx, linear_backward(ctx, x, w, dy, dx, dw, db));
}

}  // namespace dg
