// DCGAN builders (names and shapes of pytorch/examples) and the K-discriminator step: `max`
// routes G's gradient through the selected D only. (The generator-loss modes on their own:
// kernels/generator_loss/generator_loss_test.cpp.)
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
