// dgbench kernels cases of the convolutions: forward, backward-data and backward-filter of
// every (transposed) convolution of dcgan32 and dcgan64 (G and D) at each --batch.
#include "kernels/conv/conv.h"
#include "bench/kernel_bench.h"
#include "models/dcgan.h"

namespace dg {

// Forward, backward-data and backward-filter of every (transposed) convolution of a network.
static void bench_network(KernelBench& run, const Network& net, int B) {
  int size = net.in_size;
  for (const LayerSpec& l : net.layers) {
    const int in = size, out = l.out_size, Ci = l.in_channels, Co = l.out_channels, k = l.kernel;
    const ConvGeom g = l.geom;
    const double flops = 2.0 * B * Ci * Co * k * k * double(l.transposed ? in * in : out * out);
    const std::string shape = dims({B, Ci, in, in}) + " -> " + dims({B, Co, out, out}) + " k" + std::to_string(k) +
                              " s" + std::to_string(g.stride);
    const std::string what = net.name + " " + l.conv_name + (l.transposed ? " convT" : " conv");
    // Weight layout: conv (Co, Ci, k, k); transposed (Ci, Co, k, k).
    const Shape w_shape = l.transposed ? Shape{Ci, Co, k, k} : Shape{Co, Ci, k, k};
    const ConvOps op = conv_ops(l.transposed);
    run(what + " forward", shape, 0, flops, [=](Context& c) {
      Tensor x = random_input(c, {B, Ci, in, in}, 1), w = random_input(c, w_shape, 2, 0.02f), y = c.alloc({B, Co, out, out});
      return Prepared{[&c, x, w, y, g, op] { op.forward(c, x, w, g, y); }, y};
    });
    run(what + " backward-data", shape, 0, flops, [=](Context& c) {
      Tensor dy = random_input(c, {B, Co, out, out}, 3), w = random_input(c, w_shape, 2, 0.02f), dx = c.alloc({B, Ci, in, in});
      return Prepared{[&c, dy, w, dx, g, op] { op.backward_data(c, dy, w, g, dx); }, dx};
    });
    run(what + " backward-filter", shape, 0, flops, [=](Context& c) {
      Tensor x = random_input(c, {B, Ci, in, in}, 1), dy = random_input(c, {B, Co, out, out}, 3), dw = c.zeros(w_shape);
      return Prepared{[&c, x, dy, dw, g, op] {
                        c.fill(dw, 0.0f);  // it accumulates: the check compares one pass
                        op.backward_filter(c, x, dy, g, dw);
                      },
                      dw};
    });
    size = out;
  }
}

void bench_conv(KernelBench& run) {
  run.for_each_dcgan([&](const Network& net, int B) { bench_network(run, net, B); });
}

}  // namespace dg
