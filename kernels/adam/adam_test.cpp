// Adam against steps worked out by hand (torch.optim.Adam's formula, kernels/adam/adam_math.h).
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/adam/adam.h"
#include "kernels/adam/adam_math.h"

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
    adam_step(ctx, cfg, StepIndex{t - 1}, p, g, m, v);
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

TEST_CASE("adam: a counted step is read when the step runs, and decays the learning rate") {
  // Three steps with the index given, and three reading a counter that moves between them:
  // the same bits.
  AdamConfig cfg{0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 4};
  AdamState given(1.0f), counted(1.0f);
  int64_t done = 0;
  for (int64_t i = 0; i < 3; i++, done++) {
    given.g.data[0] = counted.g.data[0] = 0.5f - float(i);
    adam_step(given.ctx, cfg, StepIndex{i}, given.p, given.g, given.m, given.v);
    adam_step(counted.ctx, cfg, StepIndex::counted(&done), counted.p, counted.g, counted.m, counted.v);
    CHECK(counted.p.data[0] == given.p.data[0]);
  }
  // lr * (1 - i / 4): step 0 at lr, step 2 at half, step 4 at zero (the first step moves by lr).
  CHECK(learning_rate(cfg, 0) == 0.1f);
  CHECK(learning_rate(cfg, 2) == 0.05f);
  CHECK(learning_rate(cfg, 4) == 0.0f);
  AdamState s(1.0f);
  CHECK(s.step(cfg, 1, 0.0f) == 1.0f);  // g = 0: nothing moves, the moments stay 0
  // step index 2 with zero moments is like a first step with bias-corrected lr: check against
  // the formula, lr 0.05, m = 0.2, v = 0.004, t = 3.
  const float p = s.step(cfg, 3, 2.0f);
  const double bias1 = 1 - std::pow(0.9, 3), bias2 = 1 - std::pow(0.999, 3);
  CHECK(p == doctest::Approx(1.0 - 0.05 / bias1 * 0.2 / (std::sqrt(0.004) / std::sqrt(bias2) + 1e-8)).epsilon(1e-6));
}

TEST_CASE("adam: the step's scalars by repeated squaring agree with pow") {
  // fp::powi replaced std::pow (so that a kernel computes them with the host's bits): over a
  // long run the two differ by at most one float rounding.
  const AdamConfig cfg{2e-4f, 0.9f, 0.999f, 1e-8f, 0.0f};  // (0.5's powers would be exact)
  for (int64_t i : {0, 1, 2, 9, 99, 999, 12345, 999999}) {
    const adam::Scalars k = adam::scalars(cfg, i);
    const double t = double(i + 1);
    const float step_size = cfg.lr / (1.0f - float(std::pow(double(0.9f), t)));
    const float bias2_sqrt = float(std::sqrt(1.0 - std::pow(double(0.999f), t)));
    CHECK(std::fabs(k.step_size - step_size) <= std::nextafter(step_size, 1.0f) - step_size);
    CHECK(std::fabs(k.bias2_sqrt - bias2_sqrt) <= std::nextafter(bias2_sqrt, 2.0f) - bias2_sqrt);
  }
}

TEST_CASE("adam: rejects a negative step, a negative decay and mismatched buffers") {
  Context ctx;
  Tensor a = ctx.zeros({4}), b = ctx.zeros({3});
  CHECK_THROWS_WITH_AS(adam_step(ctx, {}, StepIndex{-1}, a, a, a, a), doctest::Contains("counts from 0, got -1"), dg::Error);
  AdamConfig bad;
  bad.decay_steps = -3;
  CHECK_THROWS_WITH_AS(adam_step(ctx, bad, StepIndex{0}, a, a, a, a), doctest::Contains("got -3"), dg::Error);
  CHECK_THROWS_WITH_AS(adam_step(ctx, {}, StepIndex{0}, a, b, a, a), doctest::Contains("grads 3"), dg::Error);
}
