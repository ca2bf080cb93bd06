// Linear: values against the definition in double, gradients against finite differences
// (tests/gradcheck.h), the accumulate/overwrite convention.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/linear/linear.h"
#include "tests/gradcheck.h"

using namespace dg;
using dg::test::check_gradient;
using dg::test::project;
using dg::test::random_tensor;

TEST_CASE("linear forward matches x w^T + b, with an input of rank 4 flattened") {
  Context ctx;
  const int N = 3, C = 2, H = 3, W = 2, I = C * H * W, O = 5;
  Tensor x = random_tensor(ctx, {N, C, H, W}, 1), w = random_tensor(ctx, {O, I}, 2), b = random_tensor(ctx, {O}, 3);
  Tensor y = ctx.alloc({N, O});
  linear_forward(ctx, x, w, b, y);
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++) {
      double ref = b.data[o];
      for (int i = 0; i < I; i++) ref += double(x.data[n * I + i]) * w.data[o * I + i];
      CHECK(y.data[n * O + o] == doctest::Approx(ref).epsilon(1e-5));
    }
  // No bias.
  Tensor y0 = ctx.alloc({N, O});
  linear_forward(ctx, x, w, Tensor{}, y0);
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++) CHECK(y0.data[n * O + o] + b.data[o] == doctest::Approx(y.data[n * O + o]));
  // Shape errors name the op and the sizes.
  Tensor bad_w = random_tensor(ctx, {O, I + 1}, 4);
  CHECK_THROWS_WITH_AS(linear_forward(ctx, x, bad_w, b, y), doctest::Contains("12 features per sample"), Error);
}

TEST_CASE("linear backward: dx, dw, db by finite differences, dw and db accumulate, dx overwrites") {
  Context ctx;
  const int N = 4, I = 7, O = 3;
  Tensor x = random_tensor(ctx, {N, I}, 11), w = random_tensor(ctx, {O, I}, 12, 0.5f);
  Tensor b = random_tensor(ctx, {O}, 13), r = random_tensor(ctx, {N, O}, 14);
  Tensor y = ctx.alloc({N, O});
  auto loss = [&] {
    linear_forward(ctx, x, w, b, y);
    return project(y, r);
  };
  Tensor dx = random_tensor(ctx, {N, I}, 15);  // garbage: must be overwritten
  Tensor dw = ctx.zeros({O, I}), db = ctx.zeros({O});
  linear_backward(ctx, x, w, r, dx, dw, db);
  check_gradient("linear dx", loss, x.data, dx.data, dx.numel());
  check_gradient("linear dw", loss, w.data, dw.data, dw.numel());
  check_gradient("linear db", loss, b.data, db.data, db.numel());
  // A second backward adds the same again to dw and db, and rewrites dx.
  std::vector<float> dx1(dx.data, dx.data + dx.numel()), dw1(dw.data, dw.data + dw.numel()),
      db1(db.data, db.data + db.numel());
  linear_backward(ctx, x, w, r, dx, dw, db);
  for (size_t i = 0; i < dx1.size(); i++) CHECK(dx.data[i] == dx1[i]);
  for (size_t i = 0; i < dw1.size(); i++) CHECK(dw.data[i] == doctest::Approx(2 * dw1[i]));
  for (size_t i = 0; i < db1.size(); i++) CHECK(db.data[i] == doctest::Approx(2 * db1[i]));
  // Every output is optional.
  linear_backward(ctx, x, w, r, Tensor{}, Tensor{}, Tensor{});
}
