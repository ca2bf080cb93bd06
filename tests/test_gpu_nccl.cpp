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

#include <cstring>
#include <string>
#include <vector>

#include "engine/comm/communicator.h"
#include "kernels/random/random.h"
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

#ifdef DG_CUDA_EMU
// Failures that only the emulator can make happen on demand (tests/emu/include/dgemu/introspect.h).
#include "dgemu/introspect.h"

namespace {

// A host communicator that garbles what it broadcasts: the NCCL unique id arrives damaged, so
// ncclCommInitRank fails after the communicator made its stream and events.
class GarblingHost final : public Communicator {
 public:
  explicit GarblingHost(Communicator& inner) : inner_(inner) {}
  const char* name() const override { return "garbling"; }
  int rank() const override { return inner_.rank(); }
  int world_size() const override { return inner_.world_size(); }
  void all_reduce_sum(Context& ctx, double* v, int64_t n) override { inner_.all_reduce_sum(ctx, v, n); }
  void broadcast(Context& ctx, Tensor t, int root) override { inner_.broadcast(ctx, t, root); }
  void start_mean(Context& ctx, Tensor t) override { inner_.start_mean(ctx, t); }
  void finish_means(Context& ctx) override { inner_.finish_means(ctx); }
  int64_t max_over_ranks(int64_t v) override { return inner_.max_over_ranks(v); }
  void broadcast_host(void* d, size_t bytes, int root) override {
    inner_.broadcast_host(d, bytes, root);
    std::memset(d, 'x', bytes);
  }

 private:
  Communicator& inner_;
};

}  // namespace

TEST_CASE("a failing ncclCommInitRank leaves no stream, event or communicator behind") {
  ContextOptions opt;
  opt.device = Device::cuda;
  Context ctx(opt);
  std::unique_ptr<Communicator> one = make_single_process_communicator();
  GarblingHost garbling(*one);
  const size_t streams = dgemu_live_streams(), events = dgemu_live_events(), comms = dgemu_live_nccl_comms();
  CHECK_THROWS_WITH_AS(make_nccl_communicator(ctx, garbling), doctest::Contains("ncclCommInitRank"), dg::Error);
  CHECK(dgemu_live_streams() == streams);
  CHECK(dgemu_live_events() == events);
  CHECK(dgemu_live_nccl_comms() == comms);
}

// NCCL reports a failed collective asynchronously; training must stop at the next step with
// the error named and the communicator aborted, not train on with wrong gradients or hang.
TEST_CASE("an asynchronous NCCL error stops training, named, and aborts the communicator") {
  ContextOptions opt;
  opt.device = Device::cuda;
  Context ctx(opt);
  std::unique_ptr<Communicator> one = make_single_process_communicator();
  const size_t comms = dgemu_live_nccl_comms();
  dgemu_nccl_fail_at(3);  // the third collective of the communicator made next fails
  std::unique_ptr<Communicator> nccl = make_nccl_communicator(ctx, *one);
  dgemu_nccl_fail_at(0);
  TrainConfig cfg;
  cfg.model.nz = 16;
  cfg.model.ngf = 8;
  cfg.model.ndf = 8;
  cfg.batch_size = 4;
  GanTrainer trainer(ctx, cfg, nccl.get());
  trainer.init_weights();
  Tensor real = ctx.alloc({cfg.batch_size, 1, 32, 32});
  fill_normal(ctx, real, 0.0f, 0.5f, 99, 7, 0);
  // The failure shows once the device has run that collective (stats() waits for the step),
  // at the communicator's next host-side call.
  std::string error;
  for (int step = 0; step < 5 && error.empty(); step++) try {
      trainer.train_step(real);
      trainer.stats();
    } catch (const dg::Error& e) {
      error = e.what();
    }
  INFO(error);
  CHECK(error.find("NCCL failed on rank 0 of 1") != std::string::npos);
  CHECK(error.find("unhandled system error") != std::string::npos);
  CHECK(error.find("aborted") != std::string::npos);
  CHECK(dgemu_live_nccl_comms() == comms);  // aborted, so freed
}

// The same when the failing collective runs inside a replayed CUDA graph, where the trainer
// makes no other call to the communicator: its check after each step names the failure.
TEST_CASE("an asynchronous NCCL error inside a replayed CUDA graph stops training, named") {
  ContextOptions opt;
  opt.device = Device::cuda;
  Context ctx(opt);
  std::unique_ptr<Communicator> one = make_single_process_communicator();
  TrainConfig cfg;
  cfg.model.nz = 16;
  cfg.model.ngf = 8;
  cfg.model.ndf = 8;
  cfg.batch_size = 4;
  Tensor real = ctx.alloc({cfg.batch_size, 1, 32, 32});
  fill_normal(ctx, real, 0.0f, 0.5f, 99, 7, 0);
  int64_t per_step = 0;  // the collectives of one step
  {
    std::unique_ptr<Communicator> nccl = make_nccl_communicator(ctx, *one);
    dg::test::Counting counted(*nccl);
    GanTrainer trainer(ctx, cfg, &counted);
    trainer.init_weights();
    trainer.train_step(real);
    per_step = counted.means + counted.sums;
  }
  REQUIRE(per_step > 0);
  // Steps 0 and 1 run as they are, step 2 is captured and replayed: the first collective of
  // step 3, the second replay, fails.
  dgemu_nccl_fail_at(static_cast<unsigned long long>(3 * per_step + 1));
  std::unique_ptr<Communicator> nccl = make_nccl_communicator(ctx, *one);
  dgemu_nccl_fail_at(0);
  GanTrainer trainer(ctx, cfg, nccl.get());
  trainer.init_weights();
  trainer.use_cuda_graph(true);
  std::string error;
  int failed_at = -1;
  for (int step = 0; step < 8 && error.empty(); step++) try {
      trainer.train_step(real);
      trainer.stats();  // the device runs the step
    } catch (const dg::Error& e) {
      error = e.what();
      failed_at = step;
    }
  INFO(error);
  CHECK(error.find("NCCL failed on rank 0 of 1") != std::string::npos);
  CHECK(failed_at == 4);  // step 3 ran the failure; the check after step 4's replay saw it
  CHECK(trainer.cuda_graph()->launches() == 3);
}
#endif
