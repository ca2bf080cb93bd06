// The generator-loss modes on the CPU: gradients against finite differences, values and the
// selection per mode worked out by hand, ties, the seed rule. (Through a whole step:
// tests/test_models.cpp; GPU vs CPU: generator_loss_gpu_test.cpp.)
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/generator_loss/generator_loss.h"
#include "tests/gradcheck.h"

using namespace dg;

namespace {
// generator_loss on host data: logits (K, B) -> loss, dlogits, selected.
struct GLossResult {
  float loss;
  std::vector<float> dlogits, selected;
};
GLossResult run_gloss(GLossConfig cfg, int K, int B, const std::vector<float>& logits,
                      const std::vector<float>& seed = {}) {
  Context ctx;
  Tensor l = ctx.alloc({K, B}), d = ctx.alloc({K, B}), loss = ctx.alloc({1}), sel = ctx.zeros({K});
  ctx.upload(l, logits.data());
  Tensor scores;
  if (!seed.empty()) {
    scores = ctx.alloc({K});
    ctx.upload(scores, seed.data());
  }
  generator_loss(ctx, cfg, l, scores, loss, d, sel);
  return {loss.data[0], std::vector<float>(d.data, d.data + K * B), std::vector<float>(sel.data, sel.data + K)};
}
double softplus_neg(double x) { return std::log1p(std::exp(-x)); }  // BCE(x, target 1)
}  // namespace

TEST_CASE("generator_loss: max, mean, max-sample and gman gradients match finite differences") {
  const int B = 5;
  for (int K : {1, 2, 3, 4})
    for (GLoss mode : {GLoss::max, GLoss::mean, GLoss::max_sample, GLoss::gman}) {
      CAPTURE(K);
      CAPTURE(gloss_name(mode));
      GLossConfig cfg{mode, 2.0f};
      std::vector<float> logits = dg::test::random_vector(K * B, 81 + K, 2.0f);
      GLossResult r = run_gloss(cfg, K, B, logits);
      auto loss = [&] { return double(run_gloss(cfg, K, B, logits).loss); };
      dg::test::GradCheckOptions opt;
      opt.h = 1e-3f;
      opt.atol = 5e-4;
      opt.allow_kinks = mode == GLoss::max || mode == GLoss::max_sample;
      dg::test::check_gradient("dlogits", loss, logits.data(), r.dlogits.data(), K * B, opt);
    }
}

TEST_CASE("generator_loss: values and selection per mode") {
  // K = 3, B = 2. Row means of g = softplus(-x): D1 is the worst (lowest logits).
  const std::vector<float> logits = {1.0f, 2.0f, -1.0f, -2.0f, 0.5f, 3.0f};
  double L[3];
  for (int i = 0; i < 3; i++) L[i] = (softplus_neg(logits[2 * i]) + softplus_neg(logits[2 * i + 1])) / 2;
  GLossResult mx = run_gloss({GLoss::max}, 3, 2, logits);
  CHECK(mx.loss == doctest::Approx(L[1]));
  CHECK(mx.selected == std::vector<float>{0, 1, 0});
  for (int b = 0; b < 2; b++) {
    CHECK(mx.dlogits[b] == 0.0f);
    CHECK(mx.dlogits[4 + b] == 0.0f);
    CHECK(mx.dlogits[2 + b] != 0.0f);
  }
  GLossResult mean = run_gloss({GLoss::mean}, 3, 2, logits);
  CHECK(mean.loss == doctest::Approx((L[0] + L[1] + L[2]) / 3));
  // max-sample: sample 0 is worst under D2? g(1)=0.31, g(-1)=1.31, g(0.5)=0.47 -> D1;
  // sample 1: g(2)=0.13, g(-2)=2.13, g(3)=0.05 -> D1.
  GLossResult ms = run_gloss({GLoss::max_sample}, 3, 2, logits);
  CHECK(ms.loss == doctest::Approx(L[1]));
  CHECK(ms.selected[1] == doctest::Approx(1.0f));
  // softmax with lambda 0 is the mean; with a large lambda it tends to the max.
  CHECK(run_gloss({GLoss::softmax, 0.0f}, 3, 2, logits).loss == doctest::Approx(mean.loss));
  CHECK(run_gloss({GLoss::softmax, 200.0f}, 3, 2, logits).loss == doctest::Approx(L[1]).epsilon(1e-4));
  // softmax holds the weights constant: dlogits = w_i (sigmoid - 1) / B.
  const float lambda = 1.5f;
  GLossResult sm = run_gloss({GLoss::softmax, lambda}, 3, 2, logits);
  double z = 0, w[3];
  for (int i = 0; i < 3; i++) z += std::exp(lambda * L[i]);
  for (int i = 0; i < 3; i++) w[i] = std::exp(lambda * L[i]) / z;
  for (int i = 0; i < 3; i++)
    for (int b = 0; b < 2; b++) {
      double sig = 1 / (1 + std::exp(-double(logits[2 * i + b])));
      CHECK(sm.dlogits[2 * i + b] == doctest::Approx(w[i] * (sig - 1) / 2).epsilon(1e-5));
    }
}

TEST_CASE("generator_loss: ties go to the lowest index and seed mode follows its scores") {
  const std::vector<float> same = {0.3f, -0.7f, 0.3f, -0.7f, 0.3f, -0.7f};
  CHECK(run_gloss({GLoss::max}, 3, 2, same).selected == std::vector<float>{1, 0, 0});
  GLossResult ms = run_gloss({GLoss::max_sample}, 3, 2, same);
  CHECK(ms.selected == std::vector<float>{1, 0, 0});
  // seed: the D is chosen by the pre-update scores, not by the current losses.
  const std::vector<float> logits = {5.0f, 5.0f, -5.0f, -5.0f};  // D1 has the larger loss
  GLossResult sd = run_gloss({GLoss::seed}, 2, 2, logits, {2.0f, 1.0f});
  CHECK(sd.selected == std::vector<float>{1, 0});
  CHECK(sd.loss == doctest::Approx(softplus_neg(5.0)));
  Context ctx;
  Tensor l = ctx.zeros({2, 2}), d = ctx.alloc({2, 2}), loss = ctx.alloc({1});
  CHECK_THROWS_WITH_AS(generator_loss(ctx, {GLoss::seed}, l, Tensor{}, loss, d, Tensor{}),
                       doctest::Contains("seed needs K = 2 seed scores"), dg::Error);
}
