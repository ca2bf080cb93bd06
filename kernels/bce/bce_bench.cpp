// dgbench kernels case of BCE with logits over a batch of logits, at each --batch.
#include "kernels/bce/bce.h"
#include "bench/kernel_bench.h"

namespace dg {

void bench_bce(KernelBench& run) {
  for (int B : run.batches)
    run("bce_with_logits", dims({B}), 2.0 * B * 4, 0, [=](Context& c) {
      Tensor logits = random_input(c, {B}, 9), mean = c.alloc({1}), dl = c.alloc({B});
      return Prepared{[&c, logits, mean, dl] { bce_with_logits(c, logits, 1.0f, Tensor(), mean, dl); }, dl};
    });
}

}  // namespace dg
