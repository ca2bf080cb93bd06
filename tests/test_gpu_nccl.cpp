// The NCCL communicator with one rank (label gpu; skipped without a device, issue #7): a
// trainer that averages its gradients through NCCL, per-layer buckets started during the
// backward on the communication stream, ends bit for bit where a trainer without a
// communicator ends. With one rank NCCL's in-place average leaves the values as they are,
// so this shows that the path runs (streams, events, the NCCL calls in order, no hang) and
// that averaging over one rank is the identity; whether a missing event would let the Adam
// step read a gradient early needs 2 ranks to show (the MPI tests check the same trainer
// logic on the CPU). The same with --sync-bn checks the synchronized BN kernels against the
// fused ones.
#include <doctest/doctest.h>

#include <vector>

#include "engine/comm/communicator.h"
#include "models/gan_trainer.h"
#include "tests/counting_communicator.h"

using namespace dg;

namespace {

std::vector<float> host(Context& ctx, const Tensor& t) {
  std::vector<float> v(size_t(t.numel()));
  ctx.download(t, v.data());
  return v;
}

// Trains a plain trainer and one reducing through NCCL (one rank, sync_bn as given) for 5
// steps on the same data; checks that both end with the same bits.
void check_nccl_matches_plain(bool sync_bn) {
  ContextOptions opt;
  opt.device = Device::cuda;
  opt.deterministic = true;  // deterministic cuDNN algorithms: two runs, same bits
  Context ctx(opt);
  std::unique_ptr<Communicator> one = make_single_process_communicator();  // carries the unique id
  std::unique_ptr<Communicator> nccl = make_nccl_communicator(ctx, *one);
  REQUIRE(nccl->world_size() == 1);
  TrainConfig cfg;
  cfg.model.nz = 16;
  cfg.model.ngf = 8;
  cfg.model.ndf = 8;
  cfg.batch_size = 8;
  TrainConfig nccl_cfg = cfg;
  nccl_cfg.sync_bn = sync_bn;
  nccl_cfg.grad_bucket_bytes = 1;  // a bucket per layer: the most cross-stream ordering
  dg::test::Counting counted(*nccl);  // to see that the buckets and the BN sums were used
  GanTrainer plain(ctx, cfg), with_nccl(ctx, nccl_cfg, &counted);
  plain.init_weights();
  with_nccl.init_weights();
  with_nccl.broadcast_state();
  Tensor real = ctx.alloc({cfg.batch_size, 1, 32, 32});
  for (int step = 0; step < 5; step++) {
    fill_normal(ctx, real, 0.0f, 0.5f, 99, 7, uint64_t(step) * uint64_t(real.numel()));
    plain.train_step(real);
    with_nccl.train_step(real);
  }
  // Per step: a mean per layer of G and of each D (a bucket per layer; one rank averages no
  // losses); BN channel sums only with --sync-bn.
  int64_t per_step = int64_t(with_nccl.generator().layers.size());
  for (Network& d : with_nccl.discriminators()) per_step += int64_t(d.layers.size());
  CHECK(counted.means == 5 * per_step);
  CHECK((counted.sums > 0) == sync_bn);
  CHECK(host(ctx, plain.generator().params.params()) == host(ctx, with_nccl.generator().params.params()));
  CHECK(host(ctx, plain.generator().params.buffers()) == host(ctx, with_nccl.generator().params.buffers()));
  for (int i = 0; i < cfg.discriminators; i++)
    CHECK(host(ctx, plain.discriminators()[i].params.params()) ==
          host(ctx, with_nccl.discriminators()[i].params.params()));
  const StepStats a = plain.stats(), b = with_nccl.stats();
  CHECK(a.g_loss == b.g_loss);
  CHECK(a.selected == b.selected);
}

}  // namespace

TEST_CASE("NCCL with one rank trains exactly like no communicator") { check_nccl_matches_plain(false); }

// The synchronized BN kernels split the fused ones at each cross-rank sum with the same
// per-block arithmetic: over one rank they give the fused kernels' bits.
TEST_CASE("--sync-bn through NCCL with one rank trains exactly like per-rank BN") { check_nccl_matches_plain(true); }
