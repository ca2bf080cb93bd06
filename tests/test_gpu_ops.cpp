// Every CUDA op against the CPU reference on the same random inputs (odd shapes included),
// the K-discriminator loss kernels with ties and K = 1..4, a whole G + 2xD step on the GPU
// against the same step on the CPU, and the PyTorch golden step on the GPU.
//
// Tolerances (relative error in norm of each output):
//   strict FP32 (CUDNN_FMA_MATH, no TF32): 1e-5 for convolutions and batchnorm (different
//     summation orders of ~1e3-term float sums), 1e-6 for elementwise ops and losses;
//   TF32 (the default): 5e-3 for convolutions: TF32 keeps 10 mantissa bits (relative
//     rounding 2^-11 ~ 5e-4 per input), and errors of a sum of products grow about with the
//     square root of the number of terms relative to the sum;
//   linear (cuBLAS): 1e-5 strict (sums of up to 2048 products); with TF32 a bound from the
//     sizes of each output's terms (check_linear_output: the emulator's TF32 found the earlier
//     5e-3 of the result too tight where a product cancels an accumulated gradient);
//   softmax: 1e-5 for probabilities and dlogits (the CPU sums up to 1000 exponentials in one
//     float chain, off by ~sqrt(C) 2^-24 typically: 2.9e-6 at C = 1000 under the emulator);
//     cross-entropy loss: 1e-6;
//   the argmax count and the bias gradient (the CPU's summation order): exact;
//   the RNG is compared bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops.h"
#ifdef DG_CUDA_EMU
#include "engine/cuda/cuda_context.h"
#endif
#include "models/classifier.h"
#include "models/gan_trainer.h"
#include "models/inception.h"
#include "tests/hash_weights.h"
#include "tests/classifier_golden.h"
#include "tests/golden_step.h"

using namespace dg;

namespace {

ContextOptions gpu(bool strict = true) {
  ContextOptions o;
  o.device = Device::cuda;
  o.strict_fp32 = strict;
  return o;
}

// A pair of contexts holding the same tensors: the CPU reference and the GPU.
struct Twin {
  Context cpu, dev;
  explicit Twin(bool strict = true) : cpu(), dev(gpu(strict)) {}
  struct Pair {
    Tensor c, g;
  };
  Pair random(Shape s, uint64_t seed, float scale = 1.0f, float shift = 0.0f) {
    Pair p{cpu.alloc(s), dev.alloc(s)};
    fill_normal(cpu, p.c, shift, scale, seed, 3);
    std::vector<float> h(p.c.data, p.c.data + p.c.numel());
    dev.upload(p.g, h.data());
    return p;
  }
  Pair zeros(Shape s) { return {cpu.zeros(s), dev.zeros(s)}; }
  Pair empty(Shape s) { return {cpu.alloc(s), dev.alloc(s)}; }
  double error(const Pair& p) {
    std::vector<float> h(size_t(p.g.numel()));
    dev.download(p.g, h.data());
    return dg::test::rel_norm_error(h, std::vector<float>(p.c.data, p.c.data + p.c.numel()));
  }
};

struct ConvCase {
  int N, C, O, H, K, stride, pad;
};
const ConvCase kConvCases[] = {{1, 3, 5, 7, 4, 2, 1}, {2, 5, 3, 6, 2, 1, 0}, {3, 2, 7, 9, 4, 1, 1},
                               {4, 64, 128, 16, 4, 2, 1}, {2, 6, 1, 4, 4, 1, 0}};

void check_convs(bool strict, double tol) {
  for (const ConvCase& c : kConvCases) {
    CAPTURE(c.N);
    CAPTURE(c.C);
    CAPTURE(c.H);
    Twin t(strict);
    ConvGeom g{c.stride, c.pad};
    const int Ho = conv_out_size(c.H, c.K, g);
    auto x = t.random({c.N, c.C, c.H, c.H}, 1), w = t.random({c.O, c.C, c.K, c.K}, 2, 0.3f);
    auto y = t.empty({c.N, c.O, Ho, Ho}), dy = t.random({c.N, c.O, Ho, Ho}, 3);
    auto dx = t.empty(x.c.shape), dw = t.random(w.c.shape, 4);  // dw starts non-zero: it must accumulate
    conv2d_forward(t.cpu, x.c, w.c, g, y.c);
    conv2d_forward(t.dev, x.g, w.g, g, y.g);
    conv2d_backward_data(t.cpu, dy.c, w.c, g, dx.c);
    conv2d_backward_data(t.dev, dy.g, w.g, g, dx.g);
    conv2d_backward_filter(t.cpu, x.c, dy.c, g, dw.c);
    conv2d_backward_filter(t.dev, x.g, dy.g, g, dw.g);
    CHECK(t.error(y) < tol);
    CHECK(t.error(dx) < tol);
    CHECK(t.error(dw) < tol);
    // The transposed convolution on the same shapes, roles swapped.
    const int Ht = conv_transpose_out_size(c.H, c.K, g);
    if (Ht <= 0) continue;
    auto wt = t.random({c.C, c.O, c.K, c.K}, 5, 0.3f);
    auto yt = t.empty({c.N, c.O, Ht, Ht}), dyt = t.random({c.N, c.O, Ht, Ht}, 6);
    auto dxt = t.empty(x.c.shape), dwt = t.random(wt.c.shape, 7);
    conv_transpose2d_forward(t.cpu, x.c, wt.c, g, yt.c);
    conv_transpose2d_forward(t.dev, x.g, wt.g, g, yt.g);
    conv_transpose2d_backward_data(t.cpu, dyt.c, wt.c, g, dxt.c);
    conv_transpose2d_backward_data(t.dev, dyt.g, wt.g, g, dxt.g);
    conv_transpose2d_backward_filter(t.cpu, x.c, dyt.c, g, dwt.c);
    conv_transpose2d_backward_filter(t.dev, x.g, dyt.g, g, dwt.g);
    CHECK(t.error(yt) < tol);
    CHECK(t.error(dxt) < tol);
    CHECK(t.error(dwt) < tol);
  }
}

}  // namespace

TEST_CASE("cuda conv2d with rectangular kernels and one-axis padding matches the CPU") {
  Twin t(true);
  for (int vertical = 0; vertical < 2; vertical++) {
    const int KH = vertical ? 7 : 1, KW = vertical ? 1 : 7;
    ConvGeom g{1, vertical ? 3 : 0, vertical ? 0 : 3};
    auto x = t.random({2, 5, 17, 13}, 1), w = t.random({6, 5, KH, KW}, 2, 0.3f);
    auto y = t.empty({2, 6, 17, 13}), dy = t.random({2, 6, 17, 13}, 3);
    auto dx = t.empty(x.c.shape), dw = t.random(w.c.shape, 4);
    conv2d_forward(t.cpu, x.c, w.c, g, y.c);
    conv2d_forward(t.dev, x.g, w.g, g, y.g);
    conv2d_backward_data(t.cpu, dy.c, w.c, g, dx.c);
    conv2d_backward_data(t.dev, dy.g, w.g, g, dx.g);
    conv2d_backward_filter(t.cpu, x.c, dy.c, g, dw.c);
    conv2d_backward_filter(t.dev, x.g, dy.g, g, dw.g);
    CHECK(t.error(y) < 1e-5);
    CHECK(t.error(dx) < 1e-5);
    CHECK(t.error(dw) < 1e-5);
  }
}

TEST_CASE("cuda conv2d and conv_transpose2d match the CPU in strict FP32") { check_convs(true, 1e-5); }

TEST_CASE("cuda conv2d and conv_transpose2d match the CPU with TF32") { check_convs(false, 5e-3); }

// The generator step hands D's last convolution D_i's logit gradients as dlogits.slice(i * B):
// with B not a multiple of 4 they start 4 or 8 bytes past a 16-byte boundary. An algorithm
// found on aligned buffers (the discriminator step's) must not be reused there blindly: cuDNN's
// Find offers only algorithms that work on the buffers it was handed.
TEST_CASE("convolutions searched on aligned buffers also run on slices at a 4-byte offset") {
  [[maybe_unused]] int aligned_only = 0;  // searches that chose an algorithm needing aligned buffers (emulator)
  for (bool strict : {true, false}) {
    CAPTURE(strict);
    Twin t(strict);
    // A device copy of `p` starting 4 bytes into a fresh buffer.
    auto shifted = [&](const Twin::Pair& p) {
      Tensor room = t.dev.alloc({int(p.c.numel() + 1)});
      Tensor v = room.slice(1, p.c.shape);
      t.dev.upload(v, p.c.data);
      return Twin::Pair{p.c, v};
    };
    const double tol = strict ? 1e-5 : 5e-3;
    for (int C : {3, 4, 8, 16}) {
      CAPTURE(C);
      ConvGeom g{1, 1};
      auto x = t.random({2, C, 9, 9}, 1), w = t.random({5, C, 3, 3}, 2, 0.3f), dy = t.random({2, 5, 9, 9}, 3);
      auto y = t.empty({2, 5, 9, 9}), dx = t.empty(x.c.shape), dw = t.zeros(w.c.shape);
      conv2d_forward(t.dev, x.g, w.g, g, y.g);  // the searches, on aligned buffers
      conv2d_backward_data(t.dev, dy.g, w.g, g, dx.g);
      conv2d_backward_filter(t.dev, x.g, dy.g, g, dw.g);
#ifdef DG_CUDA_EMU
      // The emulator's algorithms that need 16-byte aligned buffers (tests/emu/src/cudnn_conv.cpp):
      // FFT, Winograd and precomputed GEMM. One of them must have been chosen on the aligned
      // buffers, or the shifted runs below would prove nothing.
      for (const auto& [key, a] : t.dev.cuda().conv_algos) {
        const bool fwd = key.rfind("fwd", 0) == 0, data = key.rfind("bwd-data", 0) == 0;
        const std::vector<int> need = fwd ? std::vector<int>{1, 4, 5, 6, 7}
                                          : data ? std::vector<int>{2, 3, 5} : std::vector<int>{2, 5, 6};
        aligned_only += std::find(need.begin(), need.end(), a.algo) != need.end();
      }
#endif
      auto xs = shifted(x), dys = shifted(dy), ys = shifted(y), dxs = shifted(dx), dws = shifted(dw);
      t.cpu.fill(dw.c, 0.0f);
      t.dev.fill(dws.g, 0.0f);
      conv2d_forward(t.cpu, x.c, w.c, g, ys.c);
      conv2d_forward(t.dev, xs.g, w.g, g, ys.g);
      conv2d_backward_data(t.cpu, dy.c, w.c, g, dxs.c);
      conv2d_backward_data(t.dev, dys.g, w.g, g, dxs.g);
      conv2d_backward_filter(t.cpu, x.c, dy.c, g, dws.c);
      conv2d_backward_filter(t.dev, xs.g, dys.g, g, dws.g);
      CHECK(t.error(ys) < tol);
      CHECK(t.error(dxs) < tol);
      CHECK(t.error(dws) < tol);
    }
  }
#ifdef DG_CUDA_EMU
  MESSAGE(aligned_only, " searches chose an algorithm that needs aligned buffers");
  CHECK(aligned_only > 0);
#endif
}

TEST_CASE("cuda batchnorm with fused activations matches the CPU") {
  for (Act a : {Act::identity, Act::relu, Act::leaky_relu, Act::mish, Act::tanh})
    for (Shape s : {Shape{1, 3, 5, 5}, Shape{8, 64, 8, 8}, Shape{3, 7, 1, 1}}) {
      CAPTURE(act_name(a));
      CAPTURE(s.str());
      Twin t;
      BatchNormConfig cfg;
      cfg.act = {a, 0.2f};
      const int C = s[1];
      auto x = t.random(s, 11, 2.0f, 0.5f), gamma = t.random({C}, 12, 0.3f, 1.0f), beta = t.random({C}, 13, 0.3f);
      auto rm = t.random({C}, 14, 0.1f), rv = t.random({C}, 15, 0.1f, 1.0f);
      auto y = t.empty(s), dy = t.random(s, 16), dx = t.empty(s), dg = t.random({C}, 17), db = t.random({C}, 18);
      BatchNormSaved sc = batchnorm2d_forward_train(t.cpu, cfg, x.c, gamma.c, beta.c, rm.c, rv.c, y.c);
      BatchNormSaved sg = batchnorm2d_forward_train(t.dev, cfg, x.g, gamma.g, beta.g, rm.g, rv.g, y.g);
      CHECK(t.error(y) < 1e-5);
      CHECK(t.error(rm) < 1e-6);
      CHECK(t.error(rv) < 1e-6);
      CHECK(t.error({sc.invstd, sg.invstd}) < 1e-6);
      batchnorm2d_backward(t.cpu, cfg, dy.c, x.c, gamma.c, beta.c, sc, dx.c, dg.c, db.c);
      batchnorm2d_backward(t.dev, cfg, dy.g, x.g, gamma.g, beta.g, sg, dx.g, dg.g, db.g);
      CHECK(t.error(dx) < 1e-5);
      CHECK(t.error(dg) < 1e-5);
      CHECK(t.error(db) < 1e-5);
      batchnorm2d_forward_eval(t.cpu, cfg, x.c, gamma.c, beta.c, rm.c, rv.c, y.c);
      batchnorm2d_forward_eval(t.dev, cfg, x.g, gamma.g, beta.g, rm.g, rv.g, y.g);
      CHECK(t.error(y) < 1e-6);
    }
}

TEST_CASE("cuda activations, BCE, Adam, axpy and the RNG match the CPU") {
  Twin t;
  const Shape s{3, 5, 7, 9};
  for (Activation a : {Activation{Act::relu}, Activation{Act::leaky_relu, 0.2f}, Activation{Act::mish},
                       Activation{Act::tanh}}) {
    CAPTURE(act_name(a.kind));
    auto x = t.random(s, 21, 3.0f), y = t.empty(s), dy = t.random(s, 22), dx = t.empty(s);
    activation_forward(t.cpu, a, x.c, y.c);
    activation_forward(t.dev, a, x.g, y.g);
    activation_backward(t.cpu, a, x.c, dy.c, dx.c);
    activation_backward(t.dev, a, x.g, dy.g, dx.g);
    CHECK(t.error(y) < 1e-6);
    CHECK(t.error(dx) < 1e-6);
  }
  for (int B : {1, 37, 256, 1000}) {
    CAPTURE(B);
    auto logits = t.random({B}, 23, 30.0f), per = t.empty({B}), mean = t.empty({1}), d = t.empty({B});
    bce_with_logits(t.cpu, logits.c, 0.9f, per.c, mean.c, d.c, 2.0f);
    bce_with_logits(t.dev, logits.g, 0.9f, per.g, mean.g, d.g, 2.0f);
    CHECK(t.error(per) < 1e-6);
    CHECK(t.error(mean) < 1e-6);
    CHECK(t.error(d) < 1e-6);
  }
  auto p = t.random({1001}, 24), g = t.random({1001}, 25), m = t.random({1001}, 26, 0.1f), v = t.random({1001}, 27, 0.1f);
  for (int i = 0; i < 1001; i++) v.c.data[i] = std::fabs(v.c.data[i]);
  t.dev.upload(v.g, v.c.data);
  AdamConfig cfg{1e-3f, 0.5f, 0.999f, 1e-8f, 0.01f};
  for (int step = 1; step <= 3; step++) {
    adam_step(t.cpu, cfg, step, p.c, g.c, m.c, v.c);
    adam_step(t.dev, cfg, step, p.g, g.g, m.g, v.g);
  }
  CHECK(t.error(p) < 1e-6);
  CHECK(t.error(m) < 1e-6);
  CHECK(t.error(v) < 1e-6);
  axpy(t.cpu, 0.5f, g.c, p.c);
  axpy(t.dev, 0.5f, g.g, p.g);
  CHECK(t.error(p) < 1e-6);
  // The RNG: bit for bit, at an offset that is not a multiple of 4, with DESIGN's N(1, 0.02^2)
  // (BN weights), where a CPU fma contraction of mean + std * z would show.
  auto r = t.empty({100003});
  fill_normal(t.cpu, r.c, 1.0f, 0.02f, 77, 9, 6);
  fill_normal(t.dev, r.g, 1.0f, 0.02f, 77, 9, 6);
  std::vector<float> h(100003);
  t.dev.download(r.g, h.data());
  int differ = 0;
  for (int i = 0; i < 100003; i++) differ += h[size_t(i)] != r.c.data[i];
  CHECK(differ == 0);
}

// The trainer's NaN stop on the GPU: the first step whose values hold a NaN or an Inf anywhere
// (every thread of the kernel's block owns a slice) is recorded, and a later one never
// overwrites it.
TEST_CASE("cuda record_nonfinite records the first step with a NaN or an Inf anywhere in the tensor") {
  Twin t;
  auto first = [&](const Twin::Pair& p) {
    float h = -1;
    t.dev.download(p.g, &h);
    return h;
  };
  for (int where : {0, 1, 255, 256, 1000, 4095})
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      CAPTURE(where);
      CAPTURE(bad);
      auto v = t.random({4096}, 61), rec = t.zeros({1});
      record_nonfinite(t.dev, v.g, 6, rec.g);
      CHECK(first(rec) == 0.0f);  // all finite: nothing recorded
      v.c.data[where] = bad;
      t.dev.upload(v.g, v.c.data);
      record_nonfinite(t.cpu, v.c, 7, rec.c);
      record_nonfinite(t.dev, v.g, 7, rec.g);
      CHECK(rec.c.data[0] == 8.0f);  // step + 1
      CHECK(first(rec) == 8.0f);
      record_nonfinite(t.dev, v.g, 9, rec.g);
      CHECK(first(rec) == 8.0f);  // the first stays
    }
}

TEST_CASE("cuda generator loss: every mode, K = 1..4, ties") {
  for (int K : {1, 2, 3, 4})
    for (GLoss mode : {GLoss::max, GLoss::max_sample, GLoss::mean, GLoss::softmax, GLoss::gman, GLoss::seed}) {
      if (mode == GLoss::seed && K != 2) continue;
      CAPTURE(K);
      CAPTURE(gloss_name(mode));
      Twin t;
      const int B = 300;
      auto logits = t.random({K, B}, 31 + K, 2.0f), scores = t.random({K}, 41);
      auto loss = t.empty({1}), d = t.empty({K, B}), sel = t.zeros({K});
      GLossConfig cfg{mode, 1.5f};
      generator_loss(t.cpu, cfg, logits.c, scores.c, loss.c, d.c, sel.c);
      generator_loss(t.dev, cfg, logits.g, scores.g, loss.g, d.g, sel.g);
      CHECK(t.error(loss) < 1e-6);
      CHECK(t.error(d) < 1e-6);
      CHECK(t.error(sel) < 1e-6);
    }
  // Ties: identical logit rows, the lowest index wins on both backends.
  Twin t;
  auto logits = t.zeros({3, 8}), loss = t.empty({1}), d = t.empty({3, 8}), sel = t.zeros({3});
  for (GLoss mode : {GLoss::max, GLoss::max_sample}) {
    generator_loss(t.dev, {mode}, logits.g, Tensor{}, loss.g, d.g, sel.g);
    std::vector<float> h(3);
    t.dev.download(sel.g, h.data());
    CHECK(h[0] == 1.0f);
    CHECK(h[1] == 0.0f);
    CHECK(h[2] == 0.0f);
    t.dev.fill(sel.g, 0.0f);
  }
}

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

TEST_CASE("cuda pooling, bilinear resize, quantization and channel copies match the CPU") {
  Twin t;
  auto x = t.random({3, 5, 17, 13}, 1);
  for (PoolGeom g : {PoolGeom{3, 1, 1}, PoolGeom{3, 2, 0}, PoolGeom{8, 1, 0}}) {
    auto y = t.empty({3, 5, pool_out_size(17, g), pool_out_size(13, g)});
    max_pool2d(t.cpu, x.c, g, y.c);
    max_pool2d(t.dev, x.g, g, y.g);
    CHECK(t.error(y) == 0.0);
    avg_pool2d(t.cpu, x.c, g, y.c);
    avg_pool2d(t.dev, x.g, g, y.g);
    CHECK(t.error(y) < 1e-6);
  }
  for (Shape s : {Shape{3, 5, 299, 299}, Shape{3, 5, 8, 6}}) {
    auto r = t.empty(s);
    resize_bilinear(t.cpu, x.c, r.c);
    resize_bilinear(t.dev, x.g, r.g);
    CHECK(t.error(r) < 1e-6);
  }
  auto q = t.empty(x.c.shape);
  quantize_8bit(t.cpu, x.c, q.c);
  quantize_8bit(t.dev, x.g, q.g);
  CHECK(t.error(q) == 0.0);
  auto cat = t.zeros({3, 9, 17, 13});
  copy_channels(t.cpu, x.c, cat.c, 3);
  copy_channels(t.dev, x.g, cat.g, 3);
  CHECK(t.error(cat) == 0.0);
}

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

namespace {

struct LinearCase {
  int N, I, O;
};
const LinearCase kLinearCases[] = {{1, 1, 1}, {3, 17, 5}, {7, 75, 13}, {33, 130, 10}, {128, 2048, 128}};

// |t| elementwise, on the CPU.
Tensor abs_of(Context& cpu, const Tensor& t) {
  Tensor a = cpu.alloc(t.shape);
  for (int64_t i = 0; i < t.numel(); i++) a.data[i] = std::fabs(t.data[i]);
  return a;
}

// Strict FP32: the relative error in norm must be below `tol`. TF32 (strict = false): each
// product of two TF32 inputs (10 mantissa bits, rounded or truncated) is off by at most 2^-9
// of its size, so an output may be off by 2^-9 of the sum of its terms' sizes, which can be
// far more than 2^-9 of the output itself when terms cancel (a 1 x 1 product added to a
// gradient of the opposite sign). `scale` holds those sums (the same op on |inputs|); the
// error in norm must stay below 2.5e-3 of its norm (2^-9 plus the FP32 sums' rounding).
void check_linear_output(Twin& t, const Twin::Pair& p, const Tensor& scale, bool strict, double tol) {
  if (strict) {
    CHECK(t.error(p) < tol);
    return;
  }
  std::vector<float> g(size_t(p.g.numel()));
  t.dev.download(p.g, g.data());
  double err = 0, norm = 0;
  for (int64_t i = 0; i < p.c.numel(); i++) {
    err += std::pow(double(g[size_t(i)]) - p.c.data[i], 2);
    norm += std::pow(double(scale.data[i]), 2);
  }
  CHECK(std::sqrt(err) <= 2.5e-3 * std::sqrt(norm));
}

void check_linear(bool strict, double tol) {
  for (const LinearCase& c : kLinearCases) {
    CAPTURE(c.N);
    CAPTURE(c.I);
    CAPTURE(c.O);
    Twin t(strict);
    // x of rank 4 when I factors as 1 x I x 1: the flattening path on the device too.
    auto x = t.random({c.N, 1, c.I, 1}, 31), w = t.random({c.O, c.I}, 32, 0.3f), b = t.random({c.O}, 33);
    auto y = t.empty({c.N, c.O}), dy = t.random({c.N, c.O}, 34), dx = t.random(x.c.shape, 35);
    auto dw = t.random(w.c.shape, 36), db = t.random(b.c.shape, 37);  // non-zero: they must accumulate
    // The scales of the TF32 bounds: the same ops on |inputs| (|dw0| + |x|^T |dy| for dw).
    Tensor xa = abs_of(t.cpu, x.c), wa = abs_of(t.cpu, w.c), ba = abs_of(t.cpu, b.c), dya = abs_of(t.cpu, dy.c);
    Tensor ya = t.cpu.alloc(y.c.shape), dxa = t.cpu.alloc(x.c.shape), dwa = abs_of(t.cpu, dw.c), dba = abs_of(t.cpu, db.c);
    linear_forward(t.cpu, xa, wa, ba, ya);
    linear_backward(t.cpu, xa, wa, dya, dxa, dwa, dba);
    linear_forward(t.cpu, x.c, w.c, b.c, y.c);
    linear_forward(t.dev, x.g, w.g, b.g, y.g);
    linear_backward(t.cpu, x.c, w.c, dy.c, dx.c, dw.c, db.c);
    linear_backward(t.dev, x.g, w.g, dy.g, dx.g, dw.g, db.g);
    check_linear_output(t, y, ya, strict, tol);
    check_linear_output(t, dx, dxa, strict, tol);
    check_linear_output(t, dw, dwa, strict, tol);
    CHECK(t.error(db) == 0.0);
    // Without bias, and with only dw wanted.
    linear_forward(t.cpu, x.c, w.c, Tensor{}, y.c);
    linear_forward(t.dev, x.g, w.g, Tensor{}, y.g);
    linear_forward(t.cpu, xa, wa, Tensor{}, ya);
    check_linear_output(t, y, ya, strict, tol);
    Tensor dwa2 = abs_of(t.cpu, dw.c);
    linear_backward(t.cpu, xa, wa, dya, Tensor{}, dwa2, Tensor{});
    linear_backward(t.cpu, x.c, w.c, dy.c, Tensor{}, dw.c, Tensor{});
    linear_backward(t.dev, x.g, w.g, dy.g, Tensor{}, dw.g, Tensor{});
    check_linear_output(t, dw, dwa2, strict, tol);
  }
}

}  // namespace

TEST_CASE("cuda linear (cuBLAS) matches the CPU in strict FP32") { check_linear(true, 1e-5); }

TEST_CASE("cuda linear (cuBLAS) matches the CPU with TF32") { check_linear(false, 0); }

TEST_CASE("cuda softmax and softmax cross-entropy match the CPU, ties included") {
  struct Case {
    int N, C;
  };
  for (Case c : {Case{1, 2}, Case{5, 7}, Case{37, 10}, Case{300, 33}, Case{64, 1000}}) {
    CAPTURE(c.N);
    CAPTURE(c.C);
    Twin t;
    auto logits = t.random({c.N, c.C}, 41, 3.0f);
    // Rounded to halves, so rows often hold tied maxima: the argmax count must agree exactly.
    for (int64_t i = 0; i < logits.c.numel(); i++) logits.c.data[i] = std::round(logits.c.data[i] * 2) / 2;
    t.dev.upload(logits.g, logits.c.data);
    auto labels = t.empty({c.N});
    for (int n = 0; n < c.N; n++) labels.c.data[n] = float((n * 7 + 3) % c.C);
    t.dev.upload(labels.g, labels.c.data);
    auto probs = t.empty({c.N, c.C}), loss = t.empty({1}), d = t.random({c.N, c.C}, 42), correct = t.empty({1});
    softmax_forward(t.cpu, logits.c, probs.c);
    softmax_forward(t.dev, logits.g, probs.g);
    softmax_cross_entropy(t.cpu, logits.c, labels.c, loss.c, d.c, correct.c);
    softmax_cross_entropy(t.dev, logits.g, labels.g, loss.g, d.g, correct.g);
    CHECK(t.error(probs) < 1e-5);
    CHECK(t.error(loss) < 1e-6);
    CHECK(t.error(d) < 1e-5);
    CHECK(t.error(correct) == 0.0);
    // Only the count wanted.
    auto correct2 = t.empty({1});
    softmax_cross_entropy(t.dev, logits.g, labels.g, Tensor{}, Tensor{}, correct2.g);
    softmax_cross_entropy(t.cpu, logits.c, labels.c, Tensor{}, Tensor{}, correct2.c);
    CHECK(t.error(correct2) == 0.0);
  }
}

TEST_CASE("cuda softmax cross-entropy: a bad label makes the loss and its row NaN, never counted correct") {
  Context dev(gpu());
  const float x[] = {5, 0, 0, 5, 0, 0};  // two rows, both argmax 0
  const float lab[] = {0, 3};            // row 1: label 3 of 3 classes
  Tensor logits = dev.alloc({2, 3}), labels = dev.alloc({2}), loss = dev.alloc({1}), d = dev.alloc({2, 3}),
         correct = dev.alloc({1});
  dev.upload(logits, x);
  dev.upload(labels, lab);
  softmax_cross_entropy(dev, logits, labels, loss, d, correct);
  float h_loss, h_correct, h_d[6];
  dev.download(loss, &h_loss);
  dev.download(correct, &h_correct);
  dev.download(d, h_d);
  CHECK(std::isnan(h_loss));
  CHECK(h_correct == 1.0f);
  for (int c = 0; c < 3; c++) {
    CHECK(std::isfinite(h_d[c]));
    CHECK(std::isnan(h_d[3 + c]));
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
