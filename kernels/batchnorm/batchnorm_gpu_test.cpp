// The batchnorm kernels against the CPU reference: the fused way (one block per channel) and
// the split way (a channel's samples over several blocks when channels are few), which the
// shapes below both take: {8, 64, 8, 8} splits in 2, {8, 16, 16, 16} in 8, {7, 4, 12, 12} in 3
// uneven slices (2, 2, 3 samples); the others run fused.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/batchnorm/batchnorm.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

TEST_CASE("cuda batchnorm with fused activations matches the CPU") {
  for (Act a : {Act::identity, Act::relu, Act::leaky_relu, Act::mish, Act::tanh})
    for (Shape s : {Shape{1, 3, 5, 5}, Shape{8, 64, 8, 8}, Shape{3, 7, 1, 1}, Shape{8, 16, 16, 16}, Shape{7, 4, 12, 12},
                    Shape{2, 160, 4, 4}}) {
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


// Split or fused, the sums have a fixed order: the same inputs give the same bits, whatever
// order the blocks run in (under the emulator: forward, reverse or random).
TEST_CASE("cuda batchnorm gives the same bits twice, split and fused") {
  for (Shape s : {Shape{8, 16, 16, 16}, Shape{2, 160, 4, 4}}) {
    CAPTURE(s.str());
    Twin t;
    BatchNormConfig cfg;
    cfg.act = {Act::leaky_relu, 0.2f};
    const int C = s[1];
    auto x = t.random(s, 21), gamma = t.random({C}, 22, 0.3f, 1.0f), beta = t.random({C}, 23, 0.3f);
    auto dy = t.random(s, 24);
    std::vector<float> first;
    for (int run = 0; run < 2; run++) {
      auto rm = t.zeros({C}), rv = t.zeros({C}), y = t.empty(s), dx = t.empty(s), dg = t.zeros({C}), db = t.zeros({C});
      const BatchNormSaved sg = batchnorm2d_forward_train(t.dev, cfg, x.g, gamma.g, beta.g, rm.g, rv.g, y.g);
      batchnorm2d_backward(t.dev, cfg, dy.g, x.g, gamma.g, beta.g, sg, dx.g, dg.g, db.g);
      std::vector<float> all;
      for (const Tensor& r : {y.g, dx.g, dg.g, db.g, rm.g, rv.g, sg.mean, sg.invstd}) {
        std::vector<float> h(size_t(r.numel()));
        t.dev.download(r, h.data());
        all.insert(all.end(), h.begin(), h.end());
      }
      if (run == 0) first = all;
      else CHECK(all == first);
    }
  }
}
