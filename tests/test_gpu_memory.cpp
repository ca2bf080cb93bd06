// The step's memory plan: what a training step holds in the arena (Arena::held_peak_bytes: its
// high-water mark without the ops' workspaces) is the same on the CUDA path as on the CPU, with
// and without a CUDA graph, so that `dgbench --device cpu train` and the step-model report plan
// a GPU's memory on a machine without one (cuDNN's workspace comes on top on a GPU).
#include <doctest/doctest.h>

#include "models/gan_trainer.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;

namespace {

// The held peak of `steps` steps of cfg on ctx, measured from a fresh context.
size_t held_peak(const ContextOptions& opt, const TrainConfig& cfg, bool graph, int steps) {
  Context ctx(opt);
  GanTrainer t(ctx, cfg);
  t.init_weights();
  t.use_cuda_graph(graph);
  Tensor real = ctx.alloc({cfg.batch_size, cfg.model.channels, cfg.model.image_size, cfg.model.image_size});
  fill_normal(ctx, real, 0.0f, 0.5f, 7, 99);
  for (int s = 0; s < steps; s++) t.train_step(real);
  ctx.synchronize();
  return ctx.arena().held_peak_bytes();
}

}  // namespace

TEST_CASE("memory plan: a step holds the same arena bytes on the GPU path as on the CPU") {
  for (GLoss mode : {GLoss::max, GLoss::max_sample}) {
    for (bool sync_bn : {false, true}) {  // (sync BN over one process: the split batchnorm kernels)
      TrainConfig cfg;  // K = 2, dcgan32, narrow
      cfg.model.nz = 16;
      cfg.model.ngf = cfg.model.ndf = 8;
      cfg.batch_size = 4;
      cfg.g_loss.mode = mode;
      cfg.sync_bn = sync_bn;
      CAPTURE(int(mode));
      CAPTURE(sync_bn);
      const size_t cpu = held_peak(ContextOptions{}, cfg, false, 2);
      CHECK(cpu > 0);
      CHECK(held_peak(gpu(false), cfg, false, 2) == cpu);
      CHECK(held_peak(gpu(false), cfg, true, 4) == cpu);  // warm-up, capture, a replay
    }
  }
}
