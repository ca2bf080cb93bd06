// The NCCL twins of test_mpi_trainer (label gpu; `mpirun -np 2`, one GPU per rank; skipped
// with fewer than 2 devices): the same data-parallel training step on the GPU, its gradients
// averaged through NCCL in buckets on the communicator's own stream (events order them after
// the backward's kernels and the Adam step after them), synchronized BN's channel sums through
// NCCL. Under the emulator each rank is a process with its own emulated device, and a missing
// event between the streams gives wrong results in some schedule (DGEMU_ORDER).
//
// Deterministic cuDNN algorithms and strict FP32 throughout: trainers in one process must
// compute the same bits (non-deterministic algorithms sum in a different order each call).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "engine/comm/communicator.h"
#include "tests/counting_communicator.h"
#include "tests/mpi_helpers.h"

using namespace dg;
using namespace dg::test;

namespace {

// A GPU context on this rank's device, with the NCCL communicator over MPI.
struct Rank {
  Context ctx;
  std::unique_ptr<Communicator> host, nccl;
  static ContextOptions options() {
    ContextOptions o;
    o.device = Device::cuda;
    o.cuda_device = mpi_rank() % cuda_device_count();
    o.strict_fp32 = true;
    o.deterministic = true;
    return o;
  }
  Rank() : ctx(options()), host(make_mpi_communicator()), nccl(make_nccl_communicator(ctx, *host)) {}
};

}  // namespace

TEST_CASE("2 ranks through NCCL with a bucket per layer on its own stream keep bit-identical weights and moments") {
  Rank r;
  REQUIRE(r.nccl->world_size() == 2);
  TrainConfig cfg = tiny_config(4, 2, GLoss::max);
  cfg.grad_bucket_bytes = 1;  // a bucket per layer: the most collectives between the streams
  Counting counted(*r.nccl);
  GanTrainer trainer(r.ctx, cfg, &counted);
  // Each rank draws its own init: broadcast_state() must replace it with rank 0's.
  init_parameters(r.ctx, trainer.generator().params, 100 + uint64_t(r.nccl->rank()), 1);
  trainer.broadcast_state();
  CHECK(same_state_on_every_rank(r.ctx, trainer));
  Tensor real = r.ctx.alloc({cfg.batch_size, 1, 32, 32});
  for (int step = 0; step < 12; step++) {
    fill_images(r.ctx, real, step, r.nccl->rank() * cfg.batch_size);
    trainer.train_step(real);
    const StepStats s = trainer.stats();  // the selection must agree too (losses averaged on the device)
    CHECK(same_on_every_rank(s.selected.data(), int64_t(s.selected.size())));
  }
  CHECK(same_state_on_every_rank(r.ctx, trainer));
  int64_t per_step = int64_t(trainer.generator().layers.size());
  for (Network& d : trainer.discriminators()) per_step += int64_t(d.layers.size());
  CHECK(counted.means >= 12 * per_step);  // every layer's bucket went through NCCL
}

// As test_mpi_trainer's CPU case (its comment has the tolerances' reasons): 2 ranks with B/2
// and --sync-bn compute the step of one process with batch B, up to summation order; per-rank
// BN, the control, is another computation.
TEST_CASE("--sync-bn through NCCL: 2 ranks with batch B/2 match 1 process with batch B") {
  Rank r;
  std::unique_ptr<Communicator> alone = make_single_process_communicator();
  const int B = 8, half = B / 2;
  for (bool sync : {true, false}) {
    CAPTURE(sync);
    TrainConfig one_cfg = tiny_config(B, 2, GLoss::max), two_cfg = tiny_config(half, 2, GLoss::max);
    two_cfg.sync_bn = sync;
    two_cfg.grad_bucket_bytes = 3000;  // several buckets in flight while BN sums queue behind them
    GanTrainer one(r.ctx, one_cfg, alone.get()), two(r.ctx, two_cfg, r.nccl.get());
    one.init_weights();
    two.init_weights();
    two.broadcast_state();
    Tensor global = r.ctx.alloc({B, 1, 32, 32});
    double worst_grad = 0;
    for (int step = 0; step < 3; step++) {
      fill_images(r.ctx, global, step, 0);  // the same global batch on both ranks
      one.train_step(global);
      two.train_step(global.slice(int64_t(r.nccl->rank()) * half * 32 * 32, {half, 1, 32, 32}));
      if (step == 0) worst_grad = worst_error(r.ctx, two, one, true);  // the averaged gradients of the first step
    }
    double worst_weight = worst_error(r.ctx, two, one, false);
    MESSAGE("sync ", sync, ": gradient error ", worst_grad, ", weight error after 3 steps ", worst_weight);
    if (sync) {
      CHECK(worst_grad < 1e-5);
      CHECK(worst_weight < 1e-6);
      CHECK(one.stats().selected == two.stats().selected);
    } else {
      CHECK(worst_grad > 1e-2);
      CHECK(worst_weight > 1e-4);
    }
    CHECK(same_state_on_every_rank(r.ctx, two));
  }
}

// Buckets change when a mean starts, not what it computes: 2 ranks' sums in rank order on every
// rank, whatever the slices, so the bits must match one mean per network.
TEST_CASE("gradient buckets through NCCL train exactly like one mean per network") {
  Rank r;
  for (bool sync : {false, true}) {
    CAPTURE(sync);
    TrainConfig cfg = tiny_config(4, 2, sync ? GLoss::max_sample : GLoss::max);
    cfg.sync_bn = sync;
    std::vector<std::unique_ptr<GanTrainer>> trainers;
    for (int64_t bytes : {int64_t(0), int64_t(1), int64_t(3000)}) {
      TrainConfig c = cfg;
      c.grad_bucket_bytes = bytes;
      trainers.push_back(std::make_unique<GanTrainer>(r.ctx, c, r.nccl.get()));
      trainers.back()->init_weights();
    }
    Tensor real = r.ctx.alloc({cfg.batch_size, 1, 32, 32});
    for (int step = 0; step < 4; step++) {
      fill_images(r.ctx, real, step, r.nccl->rank() * cfg.batch_size);
      for (auto& t : trainers) t->train_step(real);
    }
    for (size_t k = 1; k < trainers.size(); k++) {
      CAPTURE(k);
      GanTrainer& a = *trainers[0];
      GanTrainer& b = *trainers[k];
      CHECK(same_bits(r.ctx, a.generator().params.params(), b.generator().params.params()));
      CHECK(same_bits(r.ctx, a.generator().params.exp_avg_sq(), b.generator().params.exp_avg_sq()));
      for (int i = 0; i < 2; i++) {
        CHECK(same_bits(r.ctx, a.discriminators()[i].params.params(), b.discriminators()[i].params.params()));
        CHECK(same_bits(r.ctx, a.discriminators()[i].params.buffers(), b.discriminators()[i].params.buffers()));
      }
      CHECK(a.stats().g_loss == b.stats().g_loss);
      CHECK(same_state_on_every_rank(r.ctx, b));
    }
  }
}

// The step as one CUDA graph with its collectives inside (engine/step_graph.h): the buckets'
// fork to the communication stream and join back, and synchronized BN's sums, are captured
// once and replayed; each rank replays its own graph, and the results are those of queued steps.
TEST_CASE("2 ranks through NCCL replaying each step as one CUDA graph train exactly like queued steps") {
  Rank r;
  for (bool sync : {false, true}) {
    CAPTURE(sync);
    TrainConfig cfg = tiny_config(4, 2, GLoss::max);
    cfg.sync_bn = sync;
    cfg.grad_bucket_bytes = 1;  // a bucket per layer
    cfg.lr_decay_linear = true;
    cfg.total_steps = 8;
    GanTrainer queued(r.ctx, cfg, r.nccl.get()), graphed(r.ctx, cfg, r.nccl.get());
    queued.init_weights();
    graphed.init_weights();
    graphed.use_cuda_graph(true);
    Tensor real = r.ctx.alloc({cfg.batch_size, 1, 32, 32});
    for (int step = 0; step < 5; step++) {
      fill_images(r.ctx, real, step, r.nccl->rank() * cfg.batch_size);
      queued.train_step(real);
      graphed.train_step(real);
    }
    CHECK(graphed.cuda_graph()->failure() == "");
    CHECK(graphed.cuda_graph()->conditional_failure() == "");  // (with sync BN over 2 ranks every D runs: none made)
    CHECK(graphed.cuda_graph()->launches() == 3);
    for (auto part : {&ParamStore::params, &ParamStore::exp_avg_sq, &ParamStore::buffers}) {
      CHECK(same_bits(r.ctx, (queued.generator().params.*part)(), (graphed.generator().params.*part)()));
      for (int i = 0; i < 2; i++)
        CHECK(same_bits(r.ctx, (queued.discriminators()[i].params.*part)(), (graphed.discriminators()[i].params.*part)()));
    }
    const StepStats a = queued.stats(), b = graphed.stats();
    CHECK(a.g_loss == b.g_loss);
    CHECK(a.selected == b.selected);
    CHECK(same_state_on_every_rank(r.ctx, graphed));
  }
}
