// DCGAN builders (names and shapes of pytorch/examples), the generator-loss modes, and
// the K-discriminator step: `max` routes G's gradient through the selected D only.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "models/dcgan.h"
#include "models/gan_trainer.h"
#include "tests/gradcheck.h"

using namespace dg;

static int64_t trainable_count(const Network& n) {
  int64_t c = 0;
  for (const ParamView& v : n.params.views())
    if (v.trainable()) c += v.shape.numel();
  return c;
}

TEST_CASE("dcgan64 has pytorch/examples' parameter names, shapes and counts") {
  ModelConfig c;
  c.image_size = 64;
  c.channels = 3;
  Network g = build_generator(c), d = build_discriminator(c, 0);
  CHECK(g.params.view("main.0.weight").shape == Shape{100, 512, 4, 4});
  CHECK(g.params.view("main.1.running_var").shape == Shape{512});
  CHECK(g.params.view("main.9.weight").shape == Shape{128, 64, 4, 4});
  CHECK(g.params.view("main.12.weight").shape == Shape{64, 3, 4, 4});
  CHECK(d.params.view("main.0.weight").shape == Shape{64, 3, 4, 4});
  CHECK(d.params.view("main.3.weight").shape == Shape{128});
  CHECK(d.params.view("main.11.weight").shape == Shape{1, 512, 4, 4});
  // The counts the PyTorch DCGAN tutorial prints for nc = 3.
  CHECK(trainable_count(g) == 3576704);
  CHECK(trainable_count(d) == 2765568);
  CHECK(g.layers.back().out_size == 64);
}

TEST_CASE("dcgan32, dcgan128 and seed32 layer sizes") {
  ModelConfig c;
  for (int s : {32, 128}) {
    c.image_size = s;
    Network g = build_generator(c), d = build_discriminator(c, 1);
    CHECK(g.layers.front().out_size == 4);
    CHECK(g.layers.back().out_size == s);
    CHECK(d.layers[d.layers.size() - 2].out_size == 4);
    CHECK(d.layers.back().out_size == 1);
    CHECK(d.name == "D1");
  }
  c.arch = "seed32";
  c.image_size = 32;
  Network g = build_generator(c), d = build_discriminator(c, 0);
  CHECK(g.layers.size() == 5);  // k2 to 2x2, then 4 doublings
  CHECK(g.params.view("main.0.weight").shape == Shape{100, 512, 2, 2});
  CHECK(d.layers.back().kernel == 2);
  CHECK(d.layers[d.layers.size() - 2].out_size == 2);
  c.image_size = 64;
  CHECK_THROWS_WITH_AS(build_generator(c), doctest::Contains("seed32 is a 32x32 network"), dg::Error);
  c.arch = "dcgan";
  c.image_size = 48;
  CHECK_THROWS_WITH_AS(build_generator(c), doctest::Contains("--image-size 48"), dg::Error);
}

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

namespace {
TrainConfig tiny_config(int K, GLoss mode) {
  TrainConfig t;
  t.model.image_size = 32;
  t.model.nz = 8;
  t.model.ngf = 4;
  t.model.ndf = 4;
  t.discriminators = K;
  t.g_loss.mode = mode;
  t.batch_size = 4;
  t.seed = 99;
  return t;
}
std::vector<float> download(Context& ctx, const Tensor& t) {
  std::vector<float> v(size_t(t.numel()));
  ctx.download(t, v.data());
  return v;
}
}  // namespace

TEST_CASE("with --g-loss max, G learns from the selected discriminator only") {
  Context ctx;
  Tensor real = dg::test::random_tensor(ctx, {4, 1, 32, 32}, 91, 0.5f);
  GanTrainer two(ctx, tiny_config(2, GLoss::max));
  two.init_weights();
  std::vector<std::vector<float>> d_params, d_buffers;
  for (Network& d : two.discriminators()) {
    d_params.push_back(download(ctx, d.params.params()));
    d_buffers.push_back(download(ctx, d.params.buffers()));
  }
  const std::vector<float> g_before = download(ctx, two.generator().params.params());
  two.train_step(real);
  CHECK(download(ctx, two.generator().params.params()) != g_before);  // G did take a step
  StepStats s = two.stats();
  const int chosen = s.selected[0] == 1.0f ? 0 : 1;
  CHECK(s.selected[chosen] == 1.0f);
  CHECK(s.selected[1 - chosen] == 0.0f);
  // The same step with only the chosen D (same initial weights, same noise) gives G the
  // same update, bit for bit.
  GanTrainer one(ctx, tiny_config(1, GLoss::max));
  one.init_weights();
  ctx.upload(one.discriminators()[0].params.params(), d_params[chosen].data());
  ctx.upload(one.discriminators()[0].params.buffers(), d_buffers[chosen].data());
  one.train_step(real);
  CHECK(download(ctx, one.generator().params.params()) == download(ctx, two.generator().params.params()));
  CHECK(one.stats().g_loss == s.g_loss);
  // The control: learning from the other D gives G another update.
  GanTrainer other(ctx, tiny_config(1, GLoss::max));
  other.init_weights();
  ctx.upload(other.discriminators()[0].params.params(), d_params[1 - chosen].data());
  ctx.upload(other.discriminators()[0].params.buffers(), d_buffers[1 - chosen].data());
  other.train_step(real);
  CHECK(download(ctx, other.generator().params.params()) != download(ctx, two.generator().params.params()));
}

TEST_CASE("a generator trained on one constant image learns to produce it") {
  // The target: a left-right split, -0.5 on the left and +0.5 on the right. A GAN does not
  // settle exactly (G and D keep pushing each other), so the check is that G, which starts
  // at ~0 everywhere, learns the image's structure: the left half clearly negative, the
  // right half clearly positive, and much closer to the target than at the start.
  Context ctx;
  TrainConfig cfg = tiny_config(2, GLoss::max);
  cfg.batch_size = 8;
  cfg.model.ngf = 8;
  cfg.model.ndf = 8;
  cfg.adam_g.lr = 5e-3f;  // DCGAN's N(0, 0.02) init starts G's output near 0: let it grow fast
  cfg.adam_d.lr = 1e-3f;
  GanTrainer t(ctx, cfg);
  t.init_weights();
  Tensor real = ctx.alloc({8, 1, 32, 32});
  for (int64_t i = 0; i < real.numel(); i++) real.data[i] = (i % 32) < 16 ? -0.5f : 0.5f;
  Tensor z = dg::test::random_tensor(ctx, {8, 8, 1, 1}, 93);
  struct Halves {
    double distance, left, right;
  };
  auto measure = [&] {
    ScratchScope s(ctx);
    Tensor out = t.generate_eval(z);
    Halves h{0, 0, 0};
    for (int64_t i = 0; i < out.numel(); i++) {
      h.distance += std::fabs(out.data[i] - real.data[i]) / double(out.numel());
      ((i % 32) < 16 ? h.left : h.right) += 2.0 * out.data[i] / double(out.numel());
    }
    return h;
  };
  const Halves before = measure();
  for (int i = 0; i < 300; i++) t.train_step(real);
  const Halves after = measure();
  INFO("before: distance ", before.distance, " left ", before.left, " right ", before.right);
  INFO("after 300 steps: distance ", after.distance, " left ", after.left, " right ", after.right);
  CHECK(before.distance > 0.45);
  CHECK(after.distance < 0.35);
  CHECK(after.left < -0.3);
  CHECK(after.right > 0.3);
}

TEST_CASE("training configuration errors name the flag") {
  Context ctx;
  TrainConfig c = tiny_config(3, GLoss::seed);
  CHECK_THROWS_WITH_AS(GanTrainer(ctx, c), doctest::Contains("--g-loss seed is defined for exactly 2"), dg::Error);
  c = tiny_config(0, GLoss::max);
  CHECK_THROWS_WITH_AS(GanTrainer(ctx, c), doctest::Contains("--discriminators 0"), dg::Error);
  c = tiny_config(1, GLoss::max);
  c.batch_size = 1;
  CHECK_THROWS_WITH_AS(GanTrainer(ctx, c), doctest::Contains("--batch-size 1"), dg::Error);
}
