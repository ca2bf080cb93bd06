#include "tools/bench_allreduce.h"

#include <algorithm>
#include <chrono>

#include "engine/timing.h"
#include "models/dcgan.h"

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

}  // namespace dg
