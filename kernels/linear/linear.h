// Fully connected layer with bias: y = x w^T + b (the feature classifier's layers).
#pragma once
#include "kernels/op.h"

namespace dg {

// x (N, I) (any rank: the dims after the first are flattened), w (O, I), b (O) -> y (N, O).
// b may be empty (no bias).
void linear_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b, Tensor y);
// dy (N, O) -> dx (like x) [overwrite, optional], dw (O, I), db (O) [accumulate, optional]
void linear_backward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy, Tensor dx, Tensor dw,
                     Tensor db);

// The product's sizes: N samples, I = the product of x's other dims, O outputs.
struct LinearDims {
  int N, I, O;
};
inline LinearDims linear_dims(const Tensor& x, const Tensor& w) {
  return {x.n(), int(x.numel() / x.n()), w.dim(0)};
}

}  // namespace dg
