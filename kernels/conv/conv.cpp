// The convolutions' entries: geometry and shapes checked once (the messages name the
// shapes), then the CPU body (conv_cpu.cpp) or the cuDNN body (conv_cudnn.cu).
#include "kernels/conv/conv.h"

#include "engine/dispatch.h"

namespace dg {

DG_OP_BODIES(conv2d_forward)
DG_OP_BODIES(conv2d_backward_data)
DG_OP_BODIES(conv2d_backward_filter)
DG_OP_BODIES(conv_transpose2d_forward)
DG_OP_BODIES(conv_transpose2d_backward_data)
DG_OP_BODIES(conv_transpose2d_backward_filter)

static int out_size(int in, int kernel, int stride, int pad) { return (in + 2 * pad - kernel) / stride + 1; }
static int transpose_out_size(int in, int kernel, int stride, int pad) { return (in - 1) * stride - 2 * pad + kernel; }
int conv_out_size(int in, int kernel, ConvGeom g) { return out_size(in, kernel, g.stride, g.pad_h()); }
int conv_out_size_w(int in, int kernel, ConvGeom g) { return out_size(in, kernel, g.stride, g.pad_w()); }
int conv_transpose_out_size(int in, int kernel, ConvGeom g) { return transpose_out_size(in, kernel, g.stride, g.pad_h()); }
int conv_transpose_out_size_w(int in, int kernel, ConvGeom g) {
  return transpose_out_size(in, kernel, g.stride, g.pad_w());
}

// The convolution from `image` (N, C, H, W) with a (KH, KW) kernel maps it to out_h x out_w.
static void check_geometry(const Tensor& image, int KH, int KW, ConvGeom g, int out_h, int out_w, const char* op) {
  DG_CHECK(image.shape.rank == 4, op, ": input must be (N, C, H, W), got ", image.shape.str());
  DG_CHECK(KH >= 1 && KW >= 1, op, ": an empty ", KH, "x", KW, " kernel");
  DG_CHECK(g.stride >= 1 && g.pad_h() >= 0 && g.pad_w() >= 0, op, ": bad stride ", g.stride, " or padding ", g.pad_h(),
           ",", g.pad_w());
  DG_CHECK(conv_out_size(image.h(), KH, g) == out_h && conv_out_size_w(image.w(), KW, g) == out_w, op,
           ": a ", KH, "x", KW, " kernel with stride ", g.stride, " padding ", g.pad_h(), ",", g.pad_w(), " maps ",
           image.h(), "x", image.w(), " to ", conv_out_size(image.h(), KH, g), "x",
           conv_out_size_w(image.w(), KW, g), ", not ", out_h, "x", out_w);
}

// A convolution image (N, C, H, W) * w (O, C, KH, KW) -> out (N, O, Ho, Wo), named in the
// terms of `op` (`what_w`, `what_out`: how op calls the weight and the output side).
static void check_conv(const Tensor& image, const Tensor& w, const Tensor& out, ConvGeom g, const char* op,
                       const std::string& what_w, const std::string& what_out) {
  DG_CHECK(w.shape.rank == 4, op, ": weight must be 4-d, got ", w.shape.str());
  check_geometry(image, w.h(), w.w(), g, out.h(), out.w(), op);
  check_shape(w, {w.n(), image.c(), w.h(), w.w()}, (op + (" " + what_w)).c_str());
  check_shape(out, {image.n(), w.n(), out.h(), out.w()}, (op + (" " + what_out)).c_str());
}

void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y) {
  check_conv(x, w, y, g, "conv2d_forward", "weight", "output");
  DG_DISPATCH(ctx, conv2d_forward(ctx, x, w, g, y));
}

void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  check_conv(dx, w, dy, g, "conv2d_backward_data", "weight", "dy");
  DG_DISPATCH(ctx, conv2d_backward_data(ctx, dy, w, g, dx));
}

void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  if (dw.data == nullptr) return;
  check_conv(x, dw, dy, g, "conv2d_backward_filter", "dw", "dy");
  DG_DISPATCH(ctx, conv2d_backward_filter(ctx, x, dy, g, dw));
}

// Transposed convolution = conv2d's adjoint: the "image" side of the underlying convolution
// is y (N, Cout, Ho, Wo), its "output" side x (N, Cin, H, W), and w (Cin, Cout, KH, KW) is
// exactly a conv2d weight (O = Cin, C = Cout).
static void check_transpose(const Tensor& x, const Tensor& w, const Tensor& y, ConvGeom g, const char* op,
                            const std::string& what_w, const std::string& what_x) {
  DG_CHECK(x.shape.rank == 4 && w.shape.rank == 4, op, ": tensors must be 4-d, got x ", x.shape.str(), ", w ",
           w.shape.str());
  DG_CHECK(y.h() == conv_transpose_out_size(x.h(), w.h(), g) && y.w() == conv_transpose_out_size_w(x.w(), w.w(), g),
           op, ": output ", y.shape.str(), " does not match input ", x.shape.str(), " with kernel ", w.h(), "x", w.w(),
           " stride ", g.stride, " padding ", g.pad_h(), ",", g.pad_w());
  check_conv(y, w, x, g, op, what_w, what_x);
}

void conv_transpose2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y) {
  check_transpose(x, w, y, g, "conv_transpose2d_forward", "weight", "input");
  DG_DISPATCH(ctx, conv_transpose2d_forward(ctx, x, w, g, y));
}

void conv_transpose2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  check_transpose(dx, w, dy, g, "conv_transpose2d_backward_data", "weight", "dx");
  DG_DISPATCH(ctx, conv_transpose2d_backward_data(ctx, dy, w, g, dx));
}

void conv_transpose2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  if (dw.data == nullptr) return;
  check_transpose(x, dw, dy, g, "conv_transpose2d_backward_filter", "dw", "x");
  DG_DISPATCH(ctx, conv_transpose2d_backward_filter(ctx, x, dy, g, dw));
}

}  // namespace dg
