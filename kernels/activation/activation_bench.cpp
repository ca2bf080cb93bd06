// dgbench kernels cases of the standalone activations (D's first LeakyReLU, G's Tanh) over
// 16M floats.
#include "kernels/activation/activation.h"
#include "bench/kernel_bench.h"

namespace dg {

void bench_activation(KernelBench& run) {
  const int big = 16 << 20;
  for (Act kind : {Act::leaky_relu, Act::tanh})
    run(std::string(act_name(kind)) + " forward", dims({big}), 8.0 * big, 0, [=](Context& c) {
      Tensor x = random_input(c, {big}, kind == Act::tanh ? 15 : 14), y = c.alloc({big});
      Activation a;
      a.kind = kind;
      return Prepared{[&c, a, x, y] { activation_forward(c, a, x, y); }, y};
    });
}

}  // namespace dg
