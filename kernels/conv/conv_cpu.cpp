// conv2d and conv_transpose2d on the CPU: implicit GEMMs (conv_gemm.h), or the im2col + Eigen
// reference (conv_reference.h) where those do not pay or fit. Shapes checked by conv.cpp.
#include "kernels/conv/conv.h"
#include "kernels/conv/conv_gemm.h"
#include "kernels/conv/conv_reference.h"

namespace dg::cpu {

// Geometry of the convolution from `image` (N, C, H, W) with kernel (KH, KW) to
// `out_h` x `out_w` (the sizes were checked by conv.cpp).
static ColGeom conv_geom(const Tensor& image, int KH, int KW, ConvGeom g, int out_h, int out_w) {
  return {image.n(), image.c(), image.h(), image.w(), KH, KW, g.stride, g.pad_h(), g.pad_w(), out_h, out_w};
}

// The three products of one convolution geometry, each by the method that suits it.
static void forward(Context& ctx, const ColGeom& g, int O, const float* image, const float* w, float* out) {
  if (conv_gemm_fits(g, O))
    conv_forward_gemm(ctx, g, O, image, w, out);
  else
    conv_forward_im2col(ctx, g, O, image, w, out);
}

static void backward_data(Context& ctx, const ColGeom& g, int O, const float* dout, const float* w,
                          float* dimage) {
  // The phase method multiplies zeros where taps fall outside dout; up to 1.5x the column
  // method's products it is still the faster (no col2im, no dcol matrix).
  if (conv_gemm_fits(g, O) && backward_data_phase_cost(g) <= 1.5)
    conv_backward_data_gemm(ctx, g, O, dout, w, dimage);
  else
    conv_backward_data_im2col(ctx, g, O, dout, w, dimage);
}

static void backward_filter(Context& ctx, const ColGeom& g, int O, const float* image, const float* dout,
                            float* dw) {
  if (conv_gemm_fits(g, O))
    conv_backward_filter_gemm(ctx, g, O, image, dout, dw);
  else
    conv_backward_filter_im2col(ctx, g, O, image, dout, dw);
}

// (The entries, conv.cpp, checked the shapes and skip an empty dw.)
void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y) {
  forward(ctx, conv_geom(x, w.h(), w.w(), g, y.h(), y.w()), w.n(), x.data, w.data, y.data);
}

void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  backward_data(ctx, conv_geom(dx, w.h(), w.w(), g, dy.h(), dy.w()), w.n(), dy.data, w.data, dx.data);
}

void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  backward_filter(ctx, conv_geom(x, dw.h(), dw.w(), g, dy.h(), dy.w()), dw.n(), x.data, dy.data, dw.data);
}

// Transposed convolution = conv2d's adjoint. The "image" side of the underlying conv is
// y (N, Cout, Ho, Wo) and its "output" side is x (N, Cin, H, W); w (Cin, Cout, KH, KW) is
// exactly a conv2d weight (O = Cin, C = Cout).

void conv_transpose2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y) {
  backward_data(ctx, conv_geom(y, w.h(), w.w(), g, x.h(), x.w()), x.c(), x.data, w.data, y.data);
}

void conv_transpose2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  cpu::conv2d_forward(ctx, dy, w, g, dx);  // the adjoint's adjoint (qualified: ADL would also find dg::)
}

void conv_transpose2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  backward_filter(ctx, conv_geom(dy, dw.h(), dw.w(), g, x.h(), x.w()), x.c(), dy.data, x.data, dw.data);
}

}  // namespace dg::cpu
