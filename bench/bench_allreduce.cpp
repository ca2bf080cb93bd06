#include "bench/bench_allreduce.h"

#include <algorithm>
#include <chrono>

#include "engine/timing.h"
#include "models/dcgan.h"
#include "models/gan_trainer.h"
#include "kernels/random/random.h"

namespace dg {

nlohmann::json AllreduceResult::to_json() const {
  return {{"bench", "allreduce"}, {"net", net},           {"comm", comm},         {"world_size", world_size},
          {"params", params},     {"bytes", params * 4},  {"median_ms", median_ms}, {"bus_gb_s", bus_gb_s}};
}

// One all-reduce, finished on the device, timed on the host (the NCCL call is asynchronous:
// synchronize before and after), as the slowest rank saw it.
static double timed_ms(Context& ctx, Communicator& comm, const Tensor& grads) {
  ctx.synchronize();
  comm.max_over_ranks(0);  // start together
  const auto t0 = std::chrono::steady_clock::now();
  comm.all_reduce_mean(ctx, grads);
  ctx.synchronize();
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  return double(comm.max_over_ranks(int64_t(us * 1000))) / 1e6;  // ns over the ranks, back to ms
}

void bench_allreduce(Context& ctx, Communicator& comm, const std::vector<int>& sizes, int repeats,
                     const std::function<void(const AllreduceResult&)>& report) {
  for (int size : sizes) {
    ModelConfig m;
    m.image_size = size;
    m.channels = 3;  // RGB, as pytorch/examples' DCGAN (dcgan64: G 3,576,704 and D 2,765,568 parameters)
    for (bool is_g : {true, false}) {
      Network net = is_g ? build_generator(m) : build_discriminator(m, 0);
      ScratchScope scratch(ctx);
      Tensor grads = ctx.alloc({int(net.params.param_count())});
      ctx.fill(grads, 1.0f);
      std::vector<double> ms;
      for (int r = 0; r < 5 + repeats; r++) {
        const double t = timed_ms(ctx, comm, grads);
        if (r >= 5) ms.push_back(t);
      }
      AllreduceResult res;
      res.net = "dcgan" + std::to_string(size) + (is_g ? " G" : " D");
      res.comm = comm.name();
      res.world_size = comm.world_size();
      res.params = net.params.param_count();
      res.median_ms = median(ms);
      const double n = comm.world_size();
      res.bus_gb_s = res.median_ms > 0 ? double(res.params) * 4 / (res.median_ms * 1e-3) * 2 * (n - 1) / n / 1e9 : 0;
      report(res);
    }
  }
}

nlohmann::json StepShareResult::to_json() const {
  return {{"bench", "step_share"},    {"net", net},         {"comm", comm},
          {"world_size", world_size}, {"bucket_mb", bucket_mb}, {"alone_ms", alone_ms},
          {"after_ms", after_ms},     {"overlap_ms", overlap_ms}, {"after_share", after_share},
          {"overlap_share", overlap_share}};
}

// Median ms of a training step on this rank, the largest over the ranks. bucket_bytes < 0:
// no communicator (the rank trains alone).
static double step_ms(Context& ctx, Communicator& comm, TrainConfig cfg, int64_t bucket_bytes, int warmup, int steps) {
  ScratchScope scratch(ctx);
  cfg.grad_bucket_bytes = bucket_bytes < 0 ? 0 : bucket_bytes;
  GanTrainer trainer(ctx, cfg, bucket_bytes < 0 ? nullptr : &comm);
  trainer.init_weights();
  trainer.broadcast_state();
  Tensor real = ctx.alloc({cfg.batch_size, 3, cfg.model.image_size, cfg.model.image_size});
  fill_normal(ctx, real, 0.0f, 0.5f, 7, 99 + uint64_t(comm.rank()));
  comm.max_over_ranks(0);  // start together
  const double ms = median(time_repeats_ms(ctx, [&] { trainer.train_step(real); }, {warmup, steps, false}));
  ctx.synchronize();
  return double(comm.max_over_ranks(int64_t(ms * 1e6))) / 1e6;
}

void bench_step_share(Context& ctx, Communicator& comm, const std::vector<int>& sizes, int batch, int warmup,
                      int steps, double bucket_mb, const std::function<void(const StepShareResult&)>& report) {
  for (int size : sizes) {
    TrainConfig cfg;
    cfg.model.image_size = size;
    cfg.model.channels = 3;
    cfg.discriminators = 2;
    cfg.batch_size = batch;
    validate(cfg);
    StepShareResult r;
    r.net = "dcgan" + std::to_string(size) + " K=2 B=" + std::to_string(batch);
    r.comm = comm.name();
    r.world_size = comm.world_size();
    r.bucket_mb = bucket_mb;
    r.alone_ms = step_ms(ctx, comm, cfg, -1, warmup, steps);
    r.after_ms = step_ms(ctx, comm, cfg, 0, warmup, steps);
    r.overlap_ms = step_ms(ctx, comm, cfg, int64_t(bucket_mb * 1024 * 1024), warmup, steps);
    r.after_share = (r.after_ms - r.alone_ms) / r.after_ms;
    r.overlap_share = (r.overlap_ms - r.alone_ms) / r.overlap_ms;
    report(r);
  }
}

}  // namespace dg
