// The Adam kernel (and axpy on its result) against the CPU reference.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/adam/adam.h"
#include "kernels/elementwise/elementwise.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

TEST_CASE("cuda Adam and axpy match the CPU") {
  Twin t;
  auto p = t.random({1001}, 24), g = t.random({1001}, 25), m = t.random({1001}, 26, 0.1f), v = t.random({1001}, 27, 0.1f);
  for (int i = 0; i < 1001; i++) v.c.data[i] = std::fabs(v.c.data[i]);
  t.dev.upload(v.g, v.c.data);
  AdamConfig cfg{1e-3f, 0.5f, 0.999f, 1e-8f, 0.01f};
  // The device reads its step from a counter it advances (as a replayed CUDA graph does); the
  // CPU is given each step; a decaying learning rate.
  cfg.decay_steps = 5;
  int64_t* done = alloc_step_counter(t.dev, 0);
  for (int64_t step = 0; step < 3; step++) {
    adam_step(t.cpu, cfg, StepIndex{step}, p.c, g.c, m.c, v.c);
    adam_step(t.dev, cfg, StepIndex::counted(done), p.g, g.g, m.g, v.g);
    count_step(t.dev, done);
  }
  CHECK(read_step_counter(t.dev, done) == 3);
  CHECK(t.error(p) < 1e-6);
  CHECK(t.error(m) < 1e-6);
  CHECK(t.error(v) < 1e-6);
  axpy(t.cpu, 0.5f, g.c, p.c);
  axpy(t.dev, 0.5f, g.g, p.g);
  CHECK(t.error(p) < 1e-6);
}
