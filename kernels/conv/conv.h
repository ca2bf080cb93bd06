// Convolution and transposed convolution (no bias), NCHW. CPU: implicit GEMMs
// (conv_gemm.h) or im2col (conv_reference.h); CUDA: cuDNN (conv_cudnn.cu).
#pragma once
#include <string>
#include <vector>

#include "kernels/op.h"

namespace dg {

struct ConvGeom {
  int stride = 1;
  int padding = 0;     // zero padding of both axes, or of the height axis when padding_w >= 0
  int padding_w = -1;  // -1: as `padding` (Inception's 1x7 / 7x1 kernels pad one axis only)
  int pad_h() const { return padding; }
  int pad_w() const { return padding_w < 0 ? padding : padding_w; }
};
// Output height / width of a convolution, and of a transposed convolution.
int conv_out_size(int in, int kernel, ConvGeom g);
int conv_out_size_w(int in, int kernel, ConvGeom g);
int conv_transpose_out_size(int in, int kernel, ConvGeom g);
int conv_transpose_out_size_w(int in, int kernel, ConvGeom g);

// x (N, C, H, W), w (O, C, KH, KW) -> y (N, O, Ho, Wo)
void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y);
// dy (N, O, Ho, Wo), w -> dx (N, C, H, W)            [overwrite]
void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx);
// x, dy -> dw (O, C, KH, KW)                          [accumulate; dw empty: nothing]
void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw);

// Transposed convolution, PyTorch's ConvTranspose2d (weight (Cin, Cout, KH, KW), no
// output padding). It is the adjoint of conv2d: its forward is conv2d's backward-data
// and its backward-data is conv2d's forward, with the same weight tensor.
// x (N, Cin, H, W), w (Cin, Cout, KH, KW) -> y (N, Cout, Ho, Wo), Ho = (H-1)*s - 2p + KH
void conv_transpose2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y);
// dy (N, Cout, Ho, Wo), w -> dx (N, Cin, H, W)         [overwrite]
void conv_transpose2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx);
// x, dy -> dw (Cin, Cout, KH, KW)                     [accumulate; dw empty: nothing]
void conv_transpose2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw);

// The three ops of one kind, all of one signature (for benchmarks and tests that run both kinds).
using ConvOp = void(Context& ctx, const Tensor& a, const Tensor& b, ConvGeom g, Tensor out);
struct ConvOps {
  ConvOp *forward, *backward_data, *backward_filter;
};
inline ConvOps conv_ops(bool transposed) {
  if (transposed) return {conv_transpose2d_forward, conv_transpose2d_backward_data, conv_transpose2d_backward_filter};
  return {conv2d_forward, conv2d_backward_data, conv2d_backward_filter};
}

namespace cuda {
// CUDA builds only: every (convolution primitive, shape) searched so far with each algorithm
// cuDNN's Find ran and its timing of it, the chosen one marked (for dgbench).
std::vector<std::string> conv_algorithm_trials(Context& ctx);
}  // namespace cuda

}  // namespace dg
