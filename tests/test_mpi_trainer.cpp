// The data-parallel training step on the CPU backend through MPI (issue #7, DESIGN §8),
// run by CTest as `mpirun -np 2 test_mpi_trainer` (label mpi):
//   - every rank's parameters and Adam moments stay bit-identical over many steps while each
//     rank trains on different images;
//   - every rank makes the same discriminator choice, in every --g-loss mode (and, as the
//     control, ranks choosing from their own batches would not);
//   - 2 ranks with batch B/2 each and synchronized BN compute the step of 1 process with
//     batch B, up to float summation order (tolerances below).
#include <doctest/doctest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/comm/communicator.h"
#include "tests/counting_communicator.h"
#include "tests/mpi_helpers.h"
#include "models/gan_trainer.h"

using namespace dg;
using namespace dg::test;

TEST_CASE("2 ranks on different data keep bit-identical weights and moments for many steps") {
  Context ctx;
  std::unique_ptr<Communicator> comm = make_mpi_communicator();
  REQUIRE(comm->world_size() == 2);
  const TrainConfig cfg = tiny_config(4, 2, GLoss::max);
  GanTrainer trainer(ctx, cfg, comm.get());
  // Each rank draws its own init from a rank-dependent seed: broadcast_state() must replace it.
  init_parameters(ctx, trainer.generator().params, 100 + uint64_t(comm->rank()), 1);
  trainer.broadcast_state();
  CHECK(same_state_on_every_rank(ctx, trainer));
  Tensor real = ctx.alloc({cfg.batch_size, 1, 32, 32});
  for (int step = 0; step < 30; step++) {
    fill_images(ctx, real, step, comm->rank() * cfg.batch_size);
    trainer.train_step(real);
  }
  CHECK(same_state_on_every_rank(ctx, trainer));
}

TEST_CASE("every rank selects the same discriminator in every --g-loss mode") {
  Context ctx;
  std::unique_ptr<Communicator> comm = make_mpi_communicator();
  for (GLoss mode : {GLoss::max, GLoss::max_sample, GLoss::mean, GLoss::softmax, GLoss::gman, GLoss::seed}) {
    CAPTURE(gloss_name(mode));
    const TrainConfig cfg = tiny_config(4, mode == GLoss::seed ? 2 : 3, mode);
    GanTrainer trainer(ctx, cfg, comm.get());
    trainer.init_weights();
    trainer.broadcast_state();
    Tensor real = ctx.alloc({cfg.batch_size, 1, 32, 32});
    bool same = true;
    std::vector<float> chosen_total(size_t(cfg.discriminators), 0.0f);
    for (int step = 0; step < 12; step++) {
      fill_images(ctx, real, step, comm->rank() * cfg.batch_size);
      trainer.train_step(real);
      const StepStats s = trainer.stats();  // this step's selection (stats() resets it)
      same = same_on_every_rank(s.selected.data(), int64_t(s.selected.size())) && same;
      same = same_on_every_rank(&s.g_loss, 1) && same;
      same = same_on_every_rank(s.d_real.data(), int64_t(s.d_real.size())) && same;
      for (size_t i = 0; i < s.selected.size(); i++) chosen_total[i] += s.selected[i];
    }
    CHECK(same);
    CHECK(same_state_on_every_rank(ctx, trainer));
    MESSAGE("rank ", comm->rank(), " selections over 12 steps: ", chosen_total[0], " ", chosen_total[1]);
    // Agreement means something only if the choice moves: the max rules pick more than one D.
    if (mode == GLoss::max || mode == GLoss::max_sample)
      CHECK(std::count_if(chosen_total.begin(), chosen_total.end(), [](float c) { return c > 0; }) >= 2);
  }
}

// The control of the test above: the ranks' data differ enough that ranks choosing from their
// own batch means (what the seed project's DDP did) disagree, so the test above can fail.
TEST_CASE("the control: ranks selecting from their own batches disagree") {
  Context ctx;
  std::unique_ptr<Communicator> alone = make_single_process_communicator();
  const TrainConfig cfg = tiny_config(4, 3, GLoss::max);
  GanTrainer trainer(ctx, cfg, alone.get());
  trainer.init_weights();
  Tensor real = ctx.alloc({cfg.batch_size, 1, 32, 32});
  int disagreements = 0;
  for (int step = 0; step < 12; step++) {
    fill_images(ctx, real, step, mpi_rank() * cfg.batch_size);
    trainer.train_step(real);
    const StepStats s = trainer.stats();
    disagreements += same_on_every_rank(s.selected.data(), int64_t(s.selected.size())) ? 0 : 1;
  }
  MESSAGE("steps on which the ranks' own choices differ: ", disagreements, " of 12");
  CHECK(disagreements > 0);
}

// Tolerances of the comparison with one process. Both do the same arithmetic in another
// order: a conv's weight gradient sums the batch as two halves that are then averaged
// ((s0 + s1) / 2 instead of one loop over B), BN channel sums are added over the ranks (in
// double), the D and G losses are means of two means. Each reordering moves a float32 result
// by a few ulps (~1e-7 relative); through the backward of ~10 layers they compound: measured
// 5e-7 of each gradient tensor's scale (max |g|) on the first step, 5e-9 of the weights'
// scale after 3 Adam steps. Bounds: 1e-5 for gradients, 1e-6 for weights, ~20x and ~200x the
// measurement. The control (per-rank BN statistics, another computation) differs by 0.5 and
// 1e-3: the bounds separate "same computation, other order" from "another computation" by
// more than 1000x. (Adam can turn a rounding difference into a whole step where a gradient
// component is ~0 and its sign flips; the 3 steps here stay far from that.)
TEST_CASE("2 ranks with batch B/2 and --sync-bn match 1 process with batch B") {
  Context ctx;
  std::unique_ptr<Communicator> comm = make_mpi_communicator();
  std::unique_ptr<Communicator> alone = make_single_process_communicator();
  const int B = 8, half = B / 2;
  for (bool sync : {true, false}) {
    CAPTURE(sync);
    TrainConfig one_cfg = tiny_config(B, 2, GLoss::max), two_cfg = tiny_config(half, 2, GLoss::max);
    two_cfg.sync_bn = sync;
    GanTrainer one(ctx, one_cfg, alone.get()), two(ctx, two_cfg, comm.get());
    one.init_weights();
    two.init_weights();
    two.broadcast_state();
    Tensor global = ctx.alloc({B, 1, 32, 32});
    double worst_grad = 0, worst_weight = 0;
    for (int step = 0; step < 3; step++) {
      fill_images(ctx, global, step, 0);  // the same global batch on both ranks
      one.train_step(global);
      two.train_step(global.slice(int64_t(comm->rank()) * half * 32 * 32, {half, 1, 32, 32}));
      if (step == 0) worst_grad = worst_error(ctx, two, one, true);  // the averaged gradients of the first step
    }
    worst_weight = worst_error(ctx, two, one, false);
    const StepStats s1 = one.stats(), s2 = two.stats();
    MESSAGE("sync ", sync, ": gradient error ", worst_grad, ", weight error after 3 steps ", worst_weight,
            ", G loss ", s1.g_loss, " vs ", s2.g_loss);
    if (sync) {
      CHECK(worst_grad < 1e-5);
      CHECK(worst_weight < 1e-6);
      CHECK(std::fabs(s1.g_loss - s2.g_loss) < 1e-4 * std::fabs(s1.g_loss));
      CHECK(s1.selected == s2.selected);
    } else {
      CHECK(worst_grad > 1e-2);  // the control: per-rank statistics are another computation
      CHECK(worst_weight > 1e-4);
    }
  }
}

// Buckets change when a mean starts, not what it computes: with 2 ranks every element is
// a + b on rank 0, divided by 2 and broadcast, whatever the slices, so training must match
// bit for bit. Per-layer buckets (1 byte) interleave the most collectives; --sync-bn adds BN
// sums issued while bucket means are pending, max-sample a loss mean inside the G step.
TEST_CASE("gradient buckets during the backward train exactly like one mean per network") {
  Context ctx;
  std::unique_ptr<Communicator> comm = make_mpi_communicator();
  for (bool sync : {false, true}) {
    CAPTURE(sync);
    TrainConfig cfg = tiny_config(4, 2, sync ? GLoss::max_sample : GLoss::max);
    cfg.sync_bn = sync;
    std::vector<std::unique_ptr<GanTrainer>> trainers;
    std::vector<std::unique_ptr<dg::test::Counting>> counts;
    for (int64_t bytes : {int64_t(0), int64_t(1), int64_t(3000), cfg.grad_bucket_bytes}) {
      TrainConfig c = cfg;
      c.grad_bucket_bytes = bytes;
      counts.push_back(std::make_unique<dg::test::Counting>(*comm));
      trainers.push_back(std::make_unique<GanTrainer>(ctx, c, counts.back().get()));
      trainers.back()->init_weights();
    }
    CHECK(GradBuckets(trainers[0]->generator(), 1).buckets().size() == trainers[0]->generator().layers.size());
    CHECK(GradBuckets(trainers[0]->discriminators()[0], 3000).buckets().size() > 1);
    Tensor real = ctx.alloc({cfg.batch_size, 1, 32, 32});
    for (int step = 0; step < 6; step++) {
      fill_images(ctx, real, step, comm->rank() * cfg.batch_size);
      for (auto& t : trainers) t->train_step(real);
    }
    // The trainers did use their buckets: a bucket per layer adds (layers - 1) means per network
    // and step to one mean per network; BN sums only with --sync-bn.
    int64_t extra = int64_t(trainers[0]->generator().layers.size()) - 1;
    for (Network& d : trainers[0]->discriminators()) extra += int64_t(d.layers.size()) - 1;
    CHECK(counts[1]->means - counts[0]->means == 6 * extra);
    CHECK(counts[2]->means > counts[0]->means);
    for (auto& c : counts) CHECK((c->sums > 0) == sync);
    for (size_t k = 1; k < trainers.size(); k++) {
      CAPTURE(k);
      GanTrainer& a = *trainers[0];
      GanTrainer& b = *trainers[k];
      CHECK(same_bits(ctx, a.generator().params.params(), b.generator().params.params()));
      CHECK(same_bits(ctx, a.generator().params.exp_avg_sq(), b.generator().params.exp_avg_sq()));
      for (int i = 0; i < 2; i++) {
        CHECK(same_bits(ctx, a.discriminators()[i].params.params(), b.discriminators()[i].params.params()));
        CHECK(same_bits(ctx, a.discriminators()[i].params.buffers(), b.discriminators()[i].params.buffers()));
      }
      CHECK(a.stats().g_loss == b.stats().g_loss);
      CHECK(same_state_on_every_rank(ctx, b));
    }
  }
}
