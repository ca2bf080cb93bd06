// Whole models on the GPU against the CPU and PyTorch: a G + 2xD step, the PyTorch golden
// step, the FID Inception, the feature classifier. The single ops' GPU tests are in their rooms
// (kernels/<op>/<op>_gpu_test.cpp). Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#ifdef DG_CUDA_EMU
#include "engine/cuda/cuda_context.h"
#endif
#include "models/classifier.h"
#include "models/gan_trainer.h"
#include "models/inception.h"
#include "tests/hash_weights.h"
#include "tests/classifier_golden.h"
#include "tests/golden_step.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

TEST_CASE("a whole G + 2xD step on the GPU matches the same step on the CPU") {
  TrainConfig cfg;
  cfg.model.nz = 32;
  cfg.model.ngf = cfg.model.ndf = 16;
  cfg.batch_size = 16;
  cfg.discriminators = 2;
  Context cpu, dev(gpu(true));
  GanTrainer a(cpu, cfg), b(dev, cfg);
  a.init_weights();
  b.init_weights();  // the same draws: the RNG is bit-identical
  Tensor xc = cpu.alloc({16, 1, 32, 32}), xg = dev.alloc({16, 1, 32, 32});
  fill_normal(cpu, xc, 0.0f, 0.5f, 5, 5);
  std::vector<float> h(xc.data, xc.data + xc.numel());
  dev.upload(xg, h.data());
  // Each tensor's gradient of the first step, on its own: Adam hides a gradient off by a
  // constant factor per tensor, so comparing weights alone would not show one. Strict FP32:
  // only the summation order differs (~1e-6 of a tensor's norm); the bound leaves room for
  // small tensors whose sums cancel, and still fails any wrong factor or missing term.
  a.train_step(xc);
  b.train_step(xg);
  auto compare_grads = [&](Network& x, Network& y) {
    for (const ParamView& v : x.params.views()) {
      if (!v.trainable()) continue;
      const std::string tensor = x.name + " " + v.name;
      CAPTURE(tensor);
      CHECK(dg::test::rel_norm_error(dg::test::fetch(dev, y.params.grad(v.name)),
                                     dg::test::fetch(cpu, x.params.grad(v.name))) < 1e-3);
    }
  };
  compare_grads(a.generator(), b.generator());
  for (int i = 0; i < 2; i++) compare_grads(a.discriminators()[i], b.discriminators()[i]);
  for (int s = 1; s < 3; s++) {
    a.train_step(xc);
    b.train_step(xg);
  }
  StepStats sa = a.stats(), sb = b.stats();
  CHECK(sb.g_loss == doctest::Approx(sa.g_loss).epsilon(1e-4));
  CHECK(sb.selected == sa.selected);
  auto compare = [&](Network& x, Network& y) {
    std::vector<float> px = dg::test::fetch(cpu, x.params.params()), py = dg::test::fetch(dev, y.params.params());
    CHECK(dg::test::rel_norm_error(py, px) < 1e-4);
  };
  compare(a.generator(), b.generator());
  for (int i = 0; i < 2; i++) compare(a.discriminators()[i], b.discriminators()[i]);
}

TEST_CASE("the PyTorch golden K=2 max step on the GPU (strict FP32)") { dg::test::check_golden_step(gpu(true)); }

// The FID Inception on the GPU against PyTorch (bench/pytorch/make_inception_golden.py): 1e-3
// relative in strict FP32 (the bound; the CPU reaches 3e-7), and what TF32 gives.
TEST_CASE("Inception-v3 (FID) forward on the GPU matches PyTorch") {
  const SafeTensors golden = read_safetensors(std::string(DG_TEST_DATA_DIR) + "/inception_golden.safetensors");
  Context host;
  InceptionFid reference(host);
  dg::test::fill_hash_weights(reference.store());
  for (bool strict : {true, false}) {
    CAPTURE(strict);
    Context dev(gpu(strict));
    InceptionFid net(dev);
    dev.upload(net.store().params(), reference.store().params().data);
    dev.upload(net.store().buffers(), reference.store().buffers().data);
    Tensor x = dev.alloc({2, 3, 37, 41});
    dev.upload(x, golden.at("images").data.data());
    Tensor pool3 = dev.alloc({2, InceptionFid::kFeatures}), logits = dev.alloc({2, InceptionFid::kClasses});
    net.forward(dev, x, pool3, logits);
    std::vector<float> p(size_t(pool3.numel())), l(size_t(logits.numel()));
    dev.download(pool3, p.data());
    dev.download(logits, l.data());
    const double ep = dg::test::rel_norm_error(p, golden.at("pool3").data);
    const double el = dg::test::rel_norm_error(l, golden.at("logits").data);
    MESSAGE((strict ? "strict FP32" : "TF32"), ": pool3 relative error ", ep, ", logits ", el);
    CHECK(ep < (strict ? 1e-3 : 2e-2));
    CHECK(el < (strict ? 1e-3 : 2e-2));
  }
}

TEST_CASE("the classifier's forward and training step on the GPU match the CPU") {
  Twin t;
  ClassifierConfig cfg;
  cfg.channels = 3;
  cfg.classes = 5;
  cfg.width = 8;
  Classifier a(t.cpu, cfg, true), b(t.dev, cfg, true);
  a.init_weights(t.cpu, 5);
  b.init_weights(t.dev, 5);  // the RNG is bit-identical: the same weights
  auto images = t.random({6, 3, 32, 32}, 51, 0.5f), labels = t.empty({6});
  for (int n = 0; n < 6; n++) labels.c.data[n] = float(n % 5);
  t.dev.upload(labels.g, labels.c.data);
  auto f = t.empty({6, 32}), l = t.empty({6, 5});
  a.forward(t.cpu, images.c, f.c, l.c);
  b.forward(t.dev, images.g, f.g, l.g);
  CHECK(t.error(f) < 1e-5);
  CHECK(t.error(l) < 1e-5);
  AdamConfig adam;
  adam.lr = 1e-3f;
  adam.beta1 = 0.9f;
  auto loss = t.empty({1}), correct = t.empty({1});
  a.train_step(t.cpu, images.c, labels.c, adam, 1, loss.c, correct.c);
  b.train_step(t.dev, images.g, labels.g, adam, 1, loss.g, correct.g);
  CHECK(t.error(loss) < 1e-5);
  CHECK(t.error(correct) == 0.0);
  std::vector<float> grads(size_t(b.store().grads().numel()));
  t.dev.download(b.store().grads(), grads.data());
  const Tensor ga = a.store().grads();
  CHECK(dg::test::rel_norm_error(grads, std::vector<float>(ga.data, ga.data + ga.numel())) < 1e-4);
}

TEST_CASE("linear + softmax cross-entropy on the GPU match PyTorch (golden file, strict FP32)") {
  dg::test::check_linear_softmax_golden(gpu(true));
}

TEST_CASE("a classifier training step on the GPU matches PyTorch (golden file, strict FP32 and TF32)") {
  dg::test::check_classifier_step_golden(gpu(true));
  dg::test::check_classifier_step_golden(gpu(false));
}

