// The RNG kernel against the CPU reference, bit for bit.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/elementwise/elementwise.h"
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
  // The training noise's offset, its step read on the device: the same numbers as the CPU's
  // with the step given.
  int64_t* done = alloc_step_counter(t.dev, 5);
  fill_normal(t.cpu, r.c, 0.0f, 1.0f, 77, 1, RngOffset(3, StepIndex{5}, 1000));
  fill_normal(t.dev, r.g, 0.0f, 1.0f, 77, 1, RngOffset(3, StepIndex::counted(done), 1000));
  t.dev.download(r.g, h.data());
  differ = 0;
  for (int i = 0; i < 100003; i++) differ += h[size_t(i)] != r.c.data[i];
  CHECK(differ == 0);
}
