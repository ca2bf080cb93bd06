// Finite-difference checks of conv2d and conv_transpose2d backward (data and filter),
// over batch 1, odd sizes, stride 1 and 2, padding 0 and 1, k = 2 and 4, and channel
// counts that are not powers of two. Tolerances: tests/gradcheck.h.
#include <doctest/doctest.h>

#include "kernels/conv/conv.h"
#include "tests/gradcheck.h"

using namespace dg;
using dg::test::check_gradient;
using dg::test::project;
using dg::test::random_tensor;

namespace {

struct ConvCase {
  int N, C, O, H, W, K, stride, pad;
};

const ConvCase kCases[] = {
    {1, 3, 5, 7, 7, 4, 2, 1},   // batch 1, odd size, DCGAN's k4 s2 p1
    {2, 5, 3, 6, 5, 2, 1, 0},   // k2 s1 p0, non-square
    {3, 2, 7, 9, 9, 4, 1, 1},   // k4 s1 p1
    {2, 3, 6, 8, 8, 4, 2, 0},   // k4 s2 p0
    {1, 6, 1, 4, 4, 4, 1, 0},   // DCGAN's last D layer: 4x4 -> 1x1
    {2, 1, 3, 5, 5, 2, 2, 1},   // k2 s2 p1, one input channel
};

std::string describe(const ConvCase& c) {
  return "N" + std::to_string(c.N) + " C" + std::to_string(c.C) + " O" + std::to_string(c.O) + " " +
         std::to_string(c.H) + "x" + std::to_string(c.W) + " k" + std::to_string(c.K) + " s" +
         std::to_string(c.stride) + " p" + std::to_string(c.pad);
}

// loss(x, w) = <forward(x, w), r> for a random r (N, O, Ho, Wo) = y_shape; its gradients from
// backward-data and backward-filter against finite differences.
void check_backward(Context& ctx, const ConvOps& op, const std::string& name, ConvGeom g, const Tensor& x,
                    const Tensor& w, Shape y_shape, uint64_t r_stream) {
  Tensor y = ctx.alloc(y_shape);
  Tensor r = random_tensor(ctx, y.shape, r_stream);
  auto loss = [&] {
    op.forward(ctx, x, w, g, y);
    return project(y, r);
  };
  Tensor dx = ctx.alloc(x.shape);
  Tensor dw = ctx.zeros(w.shape);
  op.backward_data(ctx, r, w, g, dx);
  op.backward_filter(ctx, x, r, g, dw);
  check_gradient(name + " dx", loss, x.data, dx.data, x.numel());
  check_gradient(name + " dw", loss, w.data, dw.data, w.numel());
}

// Every case of kCases through one kind's backward: conv2d's weight (O, C, K, K), the
// transposed convolution's (Cin, Cout, KH, KW) = (C, O, K, K).
void check_cases(bool transposed) {
  for (const ConvCase& c : kCases) {
    CAPTURE(describe(c));
    Context ctx;
    ConvGeom g{c.stride, c.pad};
    const int Ho = transposed ? conv_transpose_out_size(c.H, c.K, g) : conv_out_size(c.H, c.K, g);
    const int Wo = transposed ? conv_transpose_out_size(c.W, c.K, g) : conv_out_size(c.W, c.K, g);
    if (transposed && (Ho <= 0 || Wo <= 0)) continue;
    Tensor x = random_tensor(ctx, {c.N, c.C, c.H, c.W}, transposed ? 4 : 1);
    Tensor w = transposed ? random_tensor(ctx, {c.C, c.O, c.K, c.K}, 5, 0.3f) : random_tensor(ctx, {c.O, c.C, c.K, c.K}, 2, 0.3f);
    check_backward(ctx, conv_ops(transposed), transposed ? "conv_transpose2d" : "conv2d", g, x, w, {c.N, c.O, Ho, Wo},
                   transposed ? 6 : 3);
  }
}

}  // namespace

TEST_CASE("conv2d backward data and filter match finite differences") { check_cases(false); }

TEST_CASE("conv2d with rectangular kernels and one-axis padding (Inception's 1x7, 7x1, 1x3, 3x1)") {
  struct Rect {
    int KH, KW, pad_h, pad_w, stride;
  };
  for (Rect k : {Rect{1, 7, 0, 3, 1}, Rect{7, 1, 3, 0, 1}, Rect{1, 3, 0, 1, 1}, Rect{3, 1, 1, 0, 2}}) {
    CAPTURE(k.KH);
    CAPTURE(k.KW);
    Context ctx;
    ConvGeom g{k.stride, k.pad_h, k.pad_w};
    const int H = 9, W = 8, Ho = conv_out_size(H, k.KH, g), Wo = conv_out_size_w(W, k.KW, g);
    if (k.stride == 1) CHECK((Ho == H && Wo == W));  // "same" padding, as Inception uses it
    Tensor x = random_tensor(ctx, {2, 3, H, W}, 1);
    Tensor w = random_tensor(ctx, {4, 3, k.KH, k.KW}, 2, 0.3f);
    Tensor y = ctx.alloc({2, 4, Ho, Wo});
    conv2d_forward(ctx, x, w, g, y);
    // The forward at one output pixel, by hand: sum over c, kh, kw of x * w inside the image.
    const int n = 1, o = 2, oh = Ho - 1, ow = 0;
    double expect = 0;
    for (int c = 0; c < 3; c++)
      for (int kh = 0; kh < k.KH; kh++)
        for (int kw = 0; kw < k.KW; kw++) {
          const int ih = oh * k.stride - k.pad_h + kh, iw = ow * k.stride - k.pad_w + kw;
          if (ih >= 0 && ih < H && iw >= 0 && iw < W)
            expect += double(x.data[((n * 3 + c) * H + ih) * W + iw]) * w.data[((o * 3 + c) * k.KH + kh) * k.KW + kw];
        }
    CHECK(y.data[((n * 4 + o) * Ho + oh) * Wo + ow] == doctest::Approx(expect).epsilon(1e-5));
    check_backward(ctx, conv_ops(false), "conv2d", g, x, w, y.shape, 3);
  }
}

TEST_CASE("conv_transpose2d backward data and filter match finite differences") { check_cases(true); }

TEST_CASE("conv2d forward matches a direct convolution") {
  // Independent of im2col: the textbook 7-deep loop.
  Context ctx;
  const int N = 2, C = 3, O = 4, H = 6, W = 5, K = 3;
  ConvGeom g{2, 1};
  const int Ho = conv_out_size(H, K, g), Wo = conv_out_size(W, K, g);
  Tensor x = random_tensor(ctx, {N, C, H, W}, 8);
  Tensor w = random_tensor(ctx, {O, C, K, K}, 9);
  Tensor y = ctx.alloc({N, O, Ho, Wo});
  conv2d_forward(ctx, x, w, g, y);
  double worst = 0.0;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++)
      for (int oh = 0; oh < Ho; oh++)
        for (int ow = 0; ow < Wo; ow++) {
          double s = 0.0;
          for (int c = 0; c < C; c++)
            for (int kh = 0; kh < K; kh++)
              for (int kw = 0; kw < K; kw++) {
                int ih = oh * g.stride - g.padding + kh, iw = ow * g.stride - g.padding + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += double(x.data[((n * C + c) * H + ih) * W + iw]) * w.data[((o * C + c) * K + kh) * K + kw];
              }
          worst = std::max(worst, std::fabs(s - y.data[((n * O + o) * Ho + oh) * Wo + ow]));
        }
  CHECK(worst < 1e-5);
}

TEST_CASE("conv_transpose2d forward is the adjoint of conv2d forward") {
  // <conv(a), b> == <a, conv_transpose(b)> for the same weight (O = Cin of the transpose).
  Context ctx;
  const int N = 2, C = 3, O = 5, H = 8, W = 8, K = 4;  // 8 -> 4 -> 8: no output padding needed
  ConvGeom g{2, 1};
  const int Ho = conv_out_size(H, K, g), Wo = conv_out_size(W, K, g);
  Tensor a = random_tensor(ctx, {N, C, H, W}, 12);
  Tensor b = random_tensor(ctx, {N, O, Ho, Wo}, 13);
  Tensor w = random_tensor(ctx, {O, C, K, K}, 14);
  Tensor conv_a = ctx.alloc(b.shape);
  Tensor convt_b = ctx.alloc(a.shape);
  conv2d_forward(ctx, a, w, g, conv_a);
  conv_transpose2d_forward(ctx, b, w, g, convt_b);
  CHECK(project(conv_a, b) == doctest::Approx(project(a, convt_b)).epsilon(1e-5));
}

TEST_CASE("parameter gradients accumulate and empty outputs are skipped") {
  Context ctx;
  ConvGeom g{1, 0};
  Tensor x = random_tensor(ctx, {2, 3, 5, 5}, 15);
  Tensor dy = random_tensor(ctx, {2, 4, 4, 4}, 16);
  Tensor dw_once = ctx.zeros({4, 3, 2, 2});
  Tensor dw_twice = ctx.zeros({4, 3, 2, 2});
  conv2d_backward_filter(ctx, x, dy, g, dw_once);
  conv2d_backward_filter(ctx, x, dy, g, dw_twice);
  conv2d_backward_filter(ctx, x, dy, g, dw_twice);
  for (int64_t i = 0; i < dw_once.numel(); i++) CHECK(dw_twice.data[i] == doctest::Approx(2 * dw_once.data[i]));
  CHECK_NOTHROW(conv2d_backward_filter(ctx, x, dy, g, Tensor{}));
}

TEST_CASE("convolution shape errors name the shapes") {
  Context ctx;
  Tensor x = ctx.zeros({1, 3, 8, 8});
  Tensor w = ctx.zeros({4, 3, 4, 4});
  Tensor wrong_y = ctx.zeros({1, 4, 5, 5});
  CHECK_THROWS_WITH_AS(conv2d_forward(ctx, x, w, {2, 1}, wrong_y), doctest::Contains("not 5x5"), dg::Error);
  Tensor wrong_w = ctx.zeros({4, 2, 4, 4});
  Tensor y = ctx.zeros({1, 4, 4, 4});
  CHECK_THROWS_WITH_AS(conv2d_forward(ctx, x, wrong_w, {2, 1}, y), doctest::Contains("(4, 3, 4, 4)"), dg::Error);
}
