// The BCE kernel against the CPU reference.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/bce/bce.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

TEST_CASE("cuda BCE with logits matches the CPU") {
  Twin t;
  for (int B : {1, 37, 256, 1000}) {
    CAPTURE(B);
    auto logits = t.random({B}, 23, 30.0f), per = t.empty({B}), mean = t.empty({1}), d = t.empty({B});
    bce_with_logits(t.cpu, logits.c, 0.9f, per.c, mean.c, d.c, 2.0f);
    bce_with_logits(t.dev, logits.g, 0.9f, per.g, mean.g, d.g, 2.0f);
    CHECK(t.error(per) < 1e-6);
    CHECK(t.error(mean) < 1e-6);
    CHECK(t.error(d) < 1e-6);
  }
}
