// Adam against steps worked out by hand (torch.optim.Adam's formula, kernels/adam/adam_math.h).
#include <doctest/doctest.h>

#include "kernels/adam/adam.h"

using namespace dg;

namespace {
struct AdamState {
  Context ctx;
  Tensor p, g, m, v;
  explicit AdamState(float p0) {
    p = ctx.alloc({1});
    g = ctx.alloc({1});
    m = ctx.zeros({1});
    v = ctx.zeros({1});
    p.data[0] = p0;
  }
  float step(const AdamConfig& cfg, int64_t t, float grad) {
    g.data[0] = grad;
    adam_step(ctx, cfg, t, p, g, m, v);
    return p.data[0];
  }
};
}  // namespace

TEST_CASE("adam: two steps worked by hand") {
  AdamConfig cfg{0.1f, 0.9f, 0.999f, 1e-8f, 0.0f};
  AdamState s(1.0f);
  // Step 1, g = 0.5: m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 2.5e-4.
  // Bias corrections 1 - 0.9 = 0.1 and 1 - 0.999 = 1e-3: step size 0.1 / 0.1 = 1,
  // denominator sqrt(2.5e-4) / sqrt(1e-3) + eps = 0.5. p = 1 - 0.05 / 0.5 = 0.9.
  CHECK(s.step(cfg, 1, 0.5f) == doctest::Approx(0.9f).epsilon(1e-6));
  CHECK(s.m.data[0] == doctest::Approx(0.05f).epsilon(1e-6));
  CHECK(s.v.data[0] == doctest::Approx(2.5e-4f).epsilon(1e-6));
  // Step 2, g = -0.25: m = 0.9 * 0.05 - 0.1 * 0.25 = 0.02; v = 0.999 * 2.5e-4 + 1e-3 * 0.0625
  // = 3.1225e-4. Step size 0.1 / (1 - 0.81) = 0.5263158; denominator sqrt(3.1225e-4) /
  // sqrt(1 - 0.998001) = 0.0176705 / 0.0447102 = 0.3952254. p = 0.9 - 0.5263158 * 0.02 /
  // 0.3952254 = 0.8733663.
  CHECK(s.step(cfg, 2, -0.25f) == doctest::Approx(0.8733663f).epsilon(1e-6));
  CHECK(s.m.data[0] == doctest::Approx(0.02f).epsilon(1e-6));
  CHECK(s.v.data[0] == doctest::Approx(3.1225e-4f).epsilon(1e-6));
}

TEST_CASE("adam: first step moves every parameter by lr against its gradient's sign") {
  // With m and v both zero, step 1 is p -= lr * g / (|g| + eps): the bias corrections cancel.
  AdamConfig cfg{2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f};
  for (float grad : {3.0f, -0.01f, 1e3f}) {
    AdamState s(0.25f);
    CHECK(s.step(cfg, 1, grad) == doctest::Approx(0.25f - (grad > 0 ? 2e-4f : -2e-4f)).epsilon(1e-6));
  }
}

TEST_CASE("adam: L2 weight decay adds weight_decay * p to the gradient") {
  // p = 2, g = 0, weight_decay = 0.5: effective gradient 1; first step moves by lr.
  AdamConfig cfg{0.1f, 0.9f, 0.999f, 1e-8f, 0.5f};
  AdamState s(2.0f);
  CHECK(s.step(cfg, 1, 0.0f) == doctest::Approx(1.9f).epsilon(1e-6));
  CHECK(s.m.data[0] == doctest::Approx(0.1f).epsilon(1e-6));
}

TEST_CASE("adam: rejects step 0 and mismatched buffers") {
  Context ctx;
  Tensor a = ctx.zeros({4}), b = ctx.zeros({3});
  CHECK_THROWS_WITH_AS(adam_step(ctx, {}, 0, a, a, a, a), doctest::Contains("step counts from 1"), dg::Error);
  CHECK_THROWS_WITH_AS(adam_step(ctx, {}, 1, a, b, a, a), doctest::Contains("grads 3"), dg::Error);
}
