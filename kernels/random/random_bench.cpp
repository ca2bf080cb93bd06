// dgbench kernels case of the normal fill over 16M floats.
#include "kernels/random/random.h"
#include "bench/kernel_bench.h"

namespace dg {

void bench_random(KernelBench& run) {
  const int big = 16 << 20;
  run("fill_normal", dims({big}), 4.0 * big, 0, [=](Context& c) {
    Tensor t = c.alloc({big});
    return Prepared{[&c, t] { fill_normal(c, t, 0.0f, 1.0f, 1, 2); }, t};
  });
}

}  // namespace dg
