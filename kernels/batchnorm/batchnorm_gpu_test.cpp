// The fused batchnorm kernels against the CPU reference.
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

