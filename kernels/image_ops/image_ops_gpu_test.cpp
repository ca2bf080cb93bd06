// The image ops of the feature networks against the CPU reference.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/image_ops/image_ops.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

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

