// Finite-difference checks of the standalone activations. Inputs are kept at least 0.05
// away from 0 so the finite difference never straddles ReLU's kink.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/activation/activation.h"
#include "tests/gradcheck.h"

using namespace dg;

TEST_CASE("activation backward matches finite differences") {
  const Activation acts[] = {{Act::relu}, {Act::leaky_relu, 0.2f}, {Act::leaky_relu, 0.01f},
                             {Act::mish}, {Act::tanh},            {Act::identity}};
  for (Activation act : acts) {
    CAPTURE(act_name(act.kind));
    CAPTURE(act.slope);
    Context ctx;
    Tensor x = dg::test::random_tensor(ctx, {2, 3, 5, 3}, 21, 2.0f);
    for (int64_t i = 0; i < x.numel(); i++)
      if (std::fabs(x.data[i]) < 0.05f) x.data[i] = x.data[i] < 0 ? -0.05f : 0.05f;
    Tensor y = ctx.alloc(x.shape);
    Tensor r = dg::test::random_tensor(ctx, x.shape, 22);
    auto loss = [&] {
      activation_forward(ctx, act, x, y);
      return dg::test::project(y, r);
    };
    Tensor dx = ctx.alloc(x.shape);
    activation_backward(ctx, act, x, r, dx);
    dg::test::check_gradient(std::string("dx of ") + act_name(act.kind), loss, x.data, dx.data, x.numel());
  }
}

TEST_CASE("activation forward values") {
  Context ctx;
  const float xs[] = {-3.0f, -0.5f, 0.0f, 0.7f, 25.0f};
  Tensor x = ctx.alloc({5});
  ctx.upload(x, xs);
  Tensor y = ctx.alloc({5});
  activation_forward(ctx, {Act::leaky_relu, 0.2f}, x, y);
  CHECK(y.data[0] == doctest::Approx(-0.6f));
  CHECK(y.data[4] == doctest::Approx(25.0f));
  activation_forward(ctx, {Act::mish}, x, y);
  // mish(x) = x tanh(log(1 + e^x)), values from the definition in double.
  for (int i = 0; i < 5; i++) {
    double v = xs[i] * std::tanh(std::log1p(std::exp(double(xs[i]))));
    CHECK(y.data[i] == doctest::Approx(v).epsilon(1e-6));
  }
  activation_forward(ctx, {Act::tanh}, x, y);
  CHECK(y.data[1] == doctest::Approx(std::tanh(-0.5)));
  activation_forward(ctx, {Act::relu}, x, y);
  CHECK(y.data[0] == 0.0f);
  CHECK(y.data[3] == doctest::Approx(0.7f));
}

TEST_CASE("activation backward from the output equals the backward from the input, bit for bit") {
  Context ctx;
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float xs[] = {-3.0f, -0.5f, -0.0f, 0.0f, 1e-30f, -1e-30f, 0.7f, 25.0f, inf, -inf, nan};
  const int n = int(sizeof xs / sizeof xs[0]);
  Tensor x = ctx.alloc({n}), y = ctx.alloc({n}), dy = dg::test::random_tensor(ctx, {n}, 5);
  Tensor dx_in = ctx.alloc({n}), dx_out = ctx.alloc({n});
  ctx.upload(x, xs);
  for (Activation a : {Activation{Act::relu}, Activation{Act::leaky_relu, 0.2f}, Activation{Act::leaky_relu, 0.0f},
                       Activation{Act::tanh}, Activation{Act::identity}}) {
    CAPTURE(act_name(a.kind));
    CAPTURE(a.slope);
    REQUIRE(act_derivative_from_output(a));
    activation_forward(ctx, a, x, y);
    activation_backward(ctx, a, x, dy, dx_in);
    activation_backward_at_output(ctx, a, y, dy, dx_out);
    CHECK(std::memcmp(dx_in.data, dx_out.data, sizeof(float) * n) == 0);
  }
  CHECK_FALSE(act_derivative_from_output({Act::mish}));
  CHECK_FALSE(act_derivative_from_output({Act::leaky_relu, -0.5f}));  // y > 0 for x < 0 too
  CHECK_THROWS_WITH_AS(activation_backward_at_output(ctx, {Act::mish}, y, dy, dx_out),
                       doctest::Contains("mish (slope 0.2) has no derivative from its output alone"), dg::Error);
}
