// Fused BCE-with-logits: values against the definition in double, gradient against finite
// differences, and stability for |logit| up to 100.
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/bce/bce.h"
#include "tests/gradcheck.h"

using namespace dg;

static double bce_reference(double x, double t) {
  // -[t log s + (1-t) log(1-s)] with log s = -log1p(e^-x), log(1-s) = -x - log1p(e^-x), stable in double.
  double log_s = x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
  double log_1ms = x >= 0 ? -x - std::log1p(std::exp(-x)) : -std::log1p(std::exp(x));
  return -(t * log_s + (1 - t) * log_1ms);
}

TEST_CASE("bce_with_logits values, mean and gradient") {
  for (float target : {0.0f, 1.0f, 0.9f}) {
    CAPTURE(target);
    Context ctx;
    const int B = 37;
    Tensor logits = dg::test::random_tensor(ctx, {B}, 61, 3.0f);
    Tensor per = ctx.alloc({B}), mean = ctx.alloc({1}), dlog = ctx.alloc({B});
    bce_with_logits(ctx, logits, target, per, mean, dlog, 1.0f);
    double sum = 0;
    for (int b = 0; b < B; b++) {
      double ref = bce_reference(logits.data[b], target);
      CHECK(per.data[b] == doctest::Approx(ref).epsilon(1e-6));
      sum += ref;
    }
    CHECK(mean.data[0] == doctest::Approx(sum / B).epsilon(1e-6));
    auto loss = [&] {
      bce_with_logits(ctx, logits, target, Tensor{}, mean, Tensor{}, 1.0f);
      return double(mean.data[0]);
    };
    // The mean is O(1) here, so the rounding part of the error is ~1e-7/h: tighter atol.
    dg::test::GradCheckOptions opt;
    opt.h = 1e-2f;
    opt.atol = 2e-4;
    dg::test::check_gradient("bce dlogits", loss, logits.data, dlog.data, B, opt);
  }
}

TEST_CASE("bce_with_logits is finite and exact for |logit| up to 100") {
  Context ctx;
  const float xs[] = {-100.0f, -60.0f, -20.0f, 0.0f, 20.0f, 60.0f, 100.0f};
  Tensor logits = ctx.alloc({7});
  ctx.upload(logits, xs);
  Tensor per = ctx.alloc({7}), mean = ctx.alloc({1}), dlog = ctx.alloc({7});
  for (float target : {0.0f, 1.0f}) {
    bce_with_logits(ctx, logits, target, per, mean, dlog, 1.0f);
    for (int b = 0; b < 7; b++) {
      CAPTURE(xs[b]);
      CHECK(std::isfinite(per.data[b]));
      CHECK(std::isfinite(dlog.data[b]));
      CHECK(per.data[b] == doctest::Approx(bce_reference(xs[b], target)).epsilon(1e-6));
      // d/dx = (sigmoid(x) - t) / B
      double sig = 1.0 / (1.0 + std::exp(-double(xs[b])));
      CHECK(dlog.data[b] == doctest::Approx((sig - target) / 7.0).epsilon(1e-6));
    }
  }
  // A logit of 100 against target 0 costs 100; against target 1 next to nothing.
  bce_with_logits(ctx, logits, 0.0f, per, mean, dlog, 1.0f);
  CHECK(per.data[6] == doctest::Approx(100.0));
  bce_with_logits(ctx, logits, 1.0f, per, mean, dlog, 1.0f);
  CHECK(per.data[6] < 1e-40f);
  CHECK(per.data[0] == doctest::Approx(100.0));
}

TEST_CASE("bce_with_logits grad_scale scales the gradient only") {
  Context ctx;
  Tensor logits = dg::test::random_tensor(ctx, {8}, 62);
  Tensor d1 = ctx.alloc({8}), d3 = ctx.alloc({8}), m1 = ctx.alloc({1}), m3 = ctx.alloc({1});
  bce_with_logits(ctx, logits, 1.0f, Tensor{}, m1, d1, 1.0f);
  bce_with_logits(ctx, logits, 1.0f, Tensor{}, m3, d3, 3.0f);
  CHECK(m1.data[0] == m3.data[0]);
  for (int b = 0; b < 8; b++) CHECK(d3.data[b] == doctest::Approx(3.0f * d1.data[b]));
}
