// Compares one dg K=2 `max` training step with PyTorch's (tests/data/golden_k2_max.safetensors,
// made by bench/pytorch/make_golden.py): losses, the selected D, every gradient, every
// updated weight and running statistic. Used by the CPU test and by the GPU test.
//
// Tolerances (float32 on both sides, different summation orders in conv and batchnorm):
//   losses:    1e-5 relative;
//   gradients: 1e-4 relative in norm per tensor;
//   updated weights: Adam's first step moves each weight by lr * u(g), u(g) = g / (|g| + eps),
//     i.e. by about lr whatever g's size, so the update is compared relative to lr: 1e-3 * lr
//     per element, plus 2 float ulps of the weight itself (BN gammas are ~1, whose ulp is
//     1.2e-7, comparable to 1e-3 * lr = 2e-7), plus lr * |u(g_dg) - u(g_torch)|: where |g| is
//     near eps = 1e-8, u is steep and the last bits of a tiny gradient (summation order)
//     move the update; the gradients themselves are held to 1e-4 above.
//   running statistics: 1e-5 relative in norm.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/param_io.h"
#include "models/gan_trainer.h"

namespace dg::test {

inline double rel_norm_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());  // (a short or empty output must not compare as close)
  REQUIRE(!b.empty());
  double err = 0, ref = 0;
  for (size_t i = 0; i < a.size(); i++) {
    err += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    ref += double(b[i]) * b[i];
  }
  return std::sqrt(err) / std::max(std::sqrt(ref), 1e-30);
}

inline std::vector<float> fetch(Context& ctx, const Tensor& t) {
  std::vector<float> v(size_t(t.numel()));
  ctx.download(t, v.data());
  return v;
}

inline void check_golden_step(ContextOptions opt) {
  const SafeTensors gold = read_safetensors(std::string(DG_TEST_DATA_DIR) + "/golden_k2_max.safetensors");
  REQUIRE(gold.meta("format_version") == "1");
  TrainConfig cfg;
  cfg.model.image_size = std::stoi(gold.meta("image_size"));
  cfg.model.nz = std::stoi(gold.meta("nz"));
  cfg.model.ngf = std::stoi(gold.meta("ngf"));
  cfg.model.ndf = std::stoi(gold.meta("ndf"));
  cfg.model.channels = std::stoi(gold.meta("nc"));
  cfg.batch_size = std::stoi(gold.meta("batch"));
  cfg.discriminators = 2;
  cfg.g_loss.mode = GLoss::max;
  cfg.adam_g.lr = cfg.adam_d.lr = std::stof(gold.meta("lr"));
  cfg.adam_g.beta1 = cfg.adam_d.beta1 = std::stof(gold.meta("beta1"));
  cfg.adam_g.beta2 = cfg.adam_d.beta2 = std::stof(gold.meta("beta2"));
  const float lr = cfg.adam_g.lr;

  Context ctx(opt);
  GanTrainer trainer(ctx, cfg);
  load_store(ctx, trainer.generator().params, StorePart::state, "G.init.", gold);
  for (int i = 0; i < 2; i++)
    load_store(ctx, trainer.discriminators()[i].params, StorePart::state, "D" + std::to_string(i) + ".init.", gold);
  Tensor x = ctx.alloc({cfg.batch_size, cfg.model.channels, cfg.model.image_size, cfg.model.image_size});
  Tensor z = ctx.alloc({cfg.batch_size, cfg.model.nz, 1, 1});
  ctx.upload(x, gold.at("in.x").data.data());
  ctx.upload(z, gold.at("in.z").data.data());
  trainer.train_step(x, z);
  StepStats s = trainer.stats();

  CHECK(s.g_loss == doctest::Approx(gold.at("G.loss").data[0]).epsilon(1e-5));
  const int selected = int(gold.at("G.selected").data[0]);
  CHECK(s.selected[selected] == 1.0f);
  CHECK(s.selected[1 - selected] == 0.0f);

  auto check_net = [&](Network& net, const std::string& gname, const std::string& stats_after) {
    const ParamStore& ps = net.params;
    for (const ParamView& v : ps.views()) {
      CAPTURE(gname + "." + v.name);
      if (v.trainable()) {
        const std::vector<float> grad = fetch(ctx, ps.grad(v.name));
        const double e = rel_norm_error(grad, gold.at(gname + ".grad." + v.name).data);
        INFO("gradient relative error ", e);
        CHECK(e < 1e-4);
        const std::vector<float> after = fetch(ctx, ps.param(v.name));
        const std::vector<float>& want = gold.at(gname + ".after." + v.name).data;
        const std::vector<float>& gold_grad = gold.at(gname + ".grad." + v.name).data;
        auto u = [](double g) { return g / (std::fabs(g) + 1e-8); };
        double worst = 0, excess = -1;
        for (size_t k = 0; k < after.size(); k++) {
          const double d = std::fabs(double(after[k]) - want[k]);
          const double explained = lr * std::fabs(u(grad[k]) - u(gold_grad[k]));
          worst = std::max(worst, d);
          excess = std::max(excess, d - (1e-3 * lr + 2.4e-7 * std::fabs(want[k]) + explained));
        }
        INFO("updated weight worst difference ", worst, " (lr ", lr, ")");
        CHECK(excess < 0);
      } else {
        const double e = rel_norm_error(fetch(ctx, ps.buffer(v.name)), gold.at(gname + stats_after + v.name).data);
        INFO("running statistic relative error ", e);
        CHECK(e < 1e-5);
      }
    }
  };
  check_net(trainer.generator(), "G", ".after.");
  for (int i = 0; i < 2; i++) {
    const std::string d = "D" + std::to_string(i);
    CHECK(s.d_real[i] == doctest::Approx(gold.at(d + ".real_loss").data[0]).epsilon(1e-5));
    CHECK(s.d_fake[i] == doctest::Approx(gold.at(d + ".fake_loss").data[0]).epsilon(1e-5));
    // D's running statistics moved again in the G step's forward pass: compare the final ones.
    check_net(trainer.discriminators()[i], d, ".final.");
  }
}

}  // namespace dg::test
