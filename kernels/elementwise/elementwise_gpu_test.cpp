// The elementwise kernels against the CPU reference.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/elementwise/elementwise.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

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
      record_nonfinite(t.dev, v.g, StepIndex{6}, rec.g);
      CHECK(first(rec) == 0.0f);  // all finite: nothing recorded
      v.c.data[where] = bad;
      t.dev.upload(v.g, v.c.data);
      record_nonfinite(t.cpu, v.c, StepIndex{7}, rec.c);
      record_nonfinite(t.dev, v.g, StepIndex{7}, rec.g);
      CHECK(rec.c.data[0] == 8.0f);  // step + 1
      CHECK(first(rec) == 8.0f);
      record_nonfinite(t.dev, v.g, StepIndex{9}, rec.g);
      CHECK(first(rec) == 8.0f);  // the first stays
    }
}

