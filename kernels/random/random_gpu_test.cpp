// The RNG kernel against the CPU reference, bit for bit.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/random/random.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

TEST_CASE("cuda fill_normal equals the CPU bit for bit") {
  Twin t;
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
