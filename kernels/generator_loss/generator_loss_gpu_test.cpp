// The K-discriminator generator loss kernel against the CPU reference.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/generator_loss/generator_loss.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

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

