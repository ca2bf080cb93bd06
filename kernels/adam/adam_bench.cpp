// dgbench kernels case of Adam over one flat buffer of dcgan64's generator size.
#include "kernels/adam/adam.h"
#include "bench/kernel_bench.h"

namespace dg {

void bench_adam(KernelBench& run) {
  const int n = 3576704;  // dcgan64 G's parameters
  run("adam_step (dcgan64 G)", dims({n}), 7.0 * 4 * n, 0, [=](Context& c) {
    Tensor p = random_input(c, {n}, 10, 0.02f), g = random_input(c, {n}, 11), m = c.zeros({n}), v = c.zeros({n});
    AdamConfig cfg;
    return Prepared{[&c, cfg, p, g, m, v] { adam_step(c, cfg, StepIndex{0}, p, g, m, v); }, p};
  });
}

}  // namespace dg
