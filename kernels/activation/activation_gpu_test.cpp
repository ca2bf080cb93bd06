// The activation kernels against the CPU reference.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/activation/activation.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

TEST_CASE("cuda activations match the CPU") {
  Twin t;
  const Shape s{3, 5, 7, 9};
  for (Activation a : {Activation{Act::relu}, Activation{Act::leaky_relu, 0.2f}, Activation{Act::mish},
                       Activation{Act::tanh}}) {
    CAPTURE(act_name(a.kind));
    auto x = t.random(s, 21, 3.0f), y = t.empty(s), dy = t.random(s, 22), dx = t.empty(s);
    t.both([&](Context& ctx) {
      activation_forward(ctx, a, x.on(ctx), y.on(ctx));
      activation_backward(ctx, a, x.on(ctx), dy.on(ctx), dx.on(ctx));
    });
    CHECK(t.error(y) < 1e-6);
    CHECK(t.error(dx) < 1e-6);
    if (act_derivative_from_output(a)) {  // from the output: the same dx
      auto dx_out = t.empty(s);
      t.both([&](Context& ctx) { activation_backward_at_output(ctx, a, y.on(ctx), dy.on(ctx), dx_out.on(ctx)); });
      CHECK(t.error(dx_out) < 1e-6);
    }
  }
}
