// dgbench kernels case of axpy over 16M floats.
#include "kernels/elementwise/elementwise.h"
#include "bench/kernel_bench.h"

namespace dg {

void bench_elementwise(KernelBench& run) {
  const int big = 16 << 20;
  run("axpy", dims({big}), 12.0 * big, 0, [=](Context& c) {
    Tensor x = random_input(c, {big}, 12), y = random_input(c, {big}, 13);
    return Prepared{[&c, x, y] { axpy(c, 0.5f, x, y); }, y};
  });
}

}  // namespace dg
