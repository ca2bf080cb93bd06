// conv2d and conv_transpose2d on the CPU: implicit GEMMs (engine/cpu/conv_gemm.h), or the
// im2col + Eigen reference (engine/cpu/conv_reference.h) where those do not pay or fit.
// Shapes and the gradient convention are in engine/ops.h.
#include "engine/cpu/conv_gemm.h"
#include "engine/cpu/conv_reference.h"
#include "engine/dispatch.h"
#include "engine/ops.h"

namespace dg {

static int out_size(int in, int kernel, int stride, int pad) { return (in + 2 * pad - kernel) / stride + 1; }
static int transpose_out_size(int in, int kernel, int stride, int pad) { return (in - 1) * stride - 2 * pad + kernel; }
int conv_out_size(int in, int kernel, ConvGeom g) { return out_size(in, kernel, g.stride, g.pad_h()); }
int conv_out_size_w(int in, int kernel, ConvGeom g) { return out_size(in, kernel, g.stride, g.pad_w()); }
int conv_transpose_out_size(int in, int kernel, ConvGeom g) { return transpose_out_size(in, kernel, g.stride, g.pad_h()); }
int conv_transpose_out_size_w(int in, int kernel, ConvGeom g) {
  return transpose_out_size(in, kernel, g.stride, g.pad_w());
}

// Geometry of the convolution from `image` (N, C, H, W) with kernel w's (KH, KW) to
// `out_h` x `out_w`, after checking that the sizes agree.
static cpu::ColGeom conv_geom(const Tensor& image, int KH, int KW, ConvGeom g, int out_h, int out_w,
                              const char* op) {
  DG_CHECK(image.shape.rank == 4, op, ": input must be (N, C, H, W), got ", image.shape.str());
  DG_CHECK(KH >= 1 && KW >= 1, op, ": an empty ", KH, "x", KW, " kernel");
  DG_CHECK(g.stride >= 1 && g.pad_h() >= 0 && g.pad_w() >= 0, op, ": bad stride ", g.stride, " or padding ", g.pad_h(),
           ",", g.pad_w());
  DG_CHECK(conv_out_size(image.h(), KH, g) == out_h && conv_out_size_w(image.w(), KW, g) == out_w, op,
           ": a ", KH, "x", KW, " kernel with stride ", g.stride, " padding ", g.pad_h(), ",", g.pad_w(), " maps ",
           image.h(), "x", image.w(), " to ", conv_out_size(image.h(), KH, g), "x",
           conv_out_size_w(image.w(), KW, g), ", not ", out_h, "x", out_w);
  return {image.n(), image.c(), image.h(), image.w(), KH, KW, g.stride, g.pad_h(), g.pad_w(), out_h, out_w};
}

// The three products of one convolution geometry, each by the method that suits it.
static void forward(Context& ctx, const cpu::ColGeom& g, int O, const float* image, const float* w, float* out) {
  if (cpu::conv_gemm_fits(g, O))
    cpu::conv_forward_gemm(ctx, g, O, image, w, out);
  else
    cpu::conv_forward_im2col(ctx, g, O, image, w, out);
}

static void backward_data(Context& ctx, const cpu::ColGeom& g, int O, const float* dout, const float* w,
                          float* dimage) {
  // The phase method multiplies zeros where taps fall outside dout; up to 1.5x the column
  // method's products it is still the faster (no col2im, no dcol matrix).
  if (cpu::conv_gemm_fits(g, O) && cpu::backward_data_phase_cost(g) <= 1.5)
    cpu::conv_backward_data_gemm(ctx, g, O, dout, w, dimage);
  else
    cpu::conv_backward_data_im2col(ctx, g, O, dout, w, dimage);
}

static void backward_filter(Context& ctx, const cpu::ColGeom& g, int O, const float* image, const float* dout,
                            float* dw) {
  if (cpu::conv_gemm_fits(g, O))
    cpu::conv_backward_filter_gemm(ctx, g, O, image, dout, dw);
  else
    cpu::conv_backward_filter_im2col(ctx, g, O, image, dout, dw);
}

void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y) {
  DG_DISPATCH_CUDA(ctx, conv2d_forward(ctx, x, w, g, y));
  const int O = w.n();
  cpu::ColGeom cg = conv_geom(x, w.h(), w.w(), g, y.h(), y.w(), "conv2d_forward");
  check_shape(w, {O, x.c(), w.h(), w.w()}, "conv2d_forward weight");
  check_shape(y, {x.n(), O, y.h(), y.w()}, "conv2d_forward output");
  forward(ctx, cg, O, x.data, w.data, y.data);
}

void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  DG_DISPATCH_CUDA(ctx, conv2d_backward_data(ctx, dy, w, g, dx));
  const int O = w.n();
  cpu::ColGeom cg = conv_geom(dx, w.h(), w.w(), g, dy.h(), dy.w(), "conv2d_backward_data");
  check_shape(w, {O, dx.c(), w.h(), w.w()}, "conv2d_backward_data weight");
  check_shape(dy, {dx.n(), O, dy.h(), dy.w()}, "conv2d_backward_data dy");
  backward_data(ctx, cg, O, dy.data, w.data, dx.data);
}

void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  DG_DISPATCH_CUDA(ctx, conv2d_backward_filter(ctx, x, dy, g, dw));
  if (dw.data == nullptr) return;
  const int O = dw.n();
  cpu::ColGeom cg = conv_geom(x, dw.h(), dw.w(), g, dy.h(), dy.w(), "conv2d_backward_filter");
  check_shape(dw, {O, x.c(), dw.h(), dw.w()}, "conv2d_backward_filter dw");
  check_shape(dy, {x.n(), O, dy.h(), dy.w()}, "conv2d_backward_filter dy");
  backward_filter(ctx, cg, O, x.data, dy.data, dw.data);
}

// Transposed convolution = conv2d's adjoint. The "image" side of the underlying conv is
// y (N, Cout, Ho, Wo) and its "output" side is x (N, Cin, H, W); w (Cin, Cout, KH, KW) is
// exactly a conv2d weight (O = Cin, C = Cout).

void conv_transpose2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y) {
  DG_DISPATCH_CUDA(ctx, conv_transpose2d_forward(ctx, x, w, g, y));
  const int Cin = x.c();
  DG_CHECK(y.h() == conv_transpose_out_size(x.h(), w.h(), g) && y.w() == conv_transpose_out_size_w(x.w(), w.w(), g),
           "conv_transpose2d_forward: output ", y.shape.str(), " does not match input ", x.shape.str(),
           " with kernel ", w.h(), "x", w.w(), " stride ", g.stride, " padding ", g.pad_h(), ",", g.pad_w());
  cpu::ColGeom cg = conv_geom(y, w.h(), w.w(), g, x.h(), x.w(), "conv_transpose2d_forward");
  check_shape(w, {Cin, y.c(), w.h(), w.w()}, "conv_transpose2d_forward weight");
  check_shape(x, {y.n(), Cin, x.h(), x.w()}, "conv_transpose2d_forward input");
  backward_data(ctx, cg, Cin, x.data, w.data, y.data);
}

void conv_transpose2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  DG_DISPATCH_CUDA(ctx, conv_transpose2d_backward_data(ctx, dy, w, g, dx));
  conv2d_forward(ctx, dy, w, g, dx);
}

void conv_transpose2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  DG_DISPATCH_CUDA(ctx, conv_transpose2d_backward_filter(ctx, x, dy, g, dw));
  if (dw.data == nullptr) return;
  const int Cin = x.c();
  cpu::ColGeom cg = conv_geom(dy, dw.h(), dw.w(), g, x.h(), x.w(), "conv_transpose2d_backward_filter");
  check_shape(dw, {Cin, dy.c(), dw.h(), dw.w()}, "conv_transpose2d_backward_filter dw");
  check_shape(x, {dy.n(), Cin, x.h(), x.w()}, "conv_transpose2d_backward_filter x");
  backward_filter(ctx, cg, Cin, dy.data, x.data, dw.data);
}

}  // namespace dg
