// dgbench kernels cases of the generator loss over K = 2 logit vectors (BCE and the
// selection, fused), per selection mode, at each --batch.
#include "kernels/generator_loss/generator_loss.h"
#include "bench/kernel_bench.h"

namespace dg {

void bench_generator_loss(KernelBench& run) {
  for (int B : run.batches)
    for (GLoss mode : {GLoss::max, GLoss::max_sample, GLoss::softmax}) {
      GLossConfig cfg;
      cfg.mode = mode;
      run(std::string("generator_loss ") + gloss_name(mode), dims({2, B}), 2.0 * 2 * B * 4, 0, [=](Context& c) {
        Tensor logits = random_input(c, {2, B}, 8), loss = c.alloc({1}), dl = c.alloc({2, B}), sel = c.zeros({2});
        return Prepared{[&c, cfg, logits, loss, dl, sel] { generator_loss(c, cfg, logits, Tensor(), loss, dl, sel); },
                        dl};
      });
    }
}

}  // namespace dg
