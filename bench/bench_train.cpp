#include "bench/bench_train.h"

#include <algorithm>

#include "models/gan_trainer.h"
#include "kernels/random/random.h"

namespace dg {

nlohmann::json TrainBenchResult::to_json() const {
  return {{"bench", "train"},          {"arch", c.arch + std::to_string(c.image_size)},
          {"k", c.discriminators},     {"batch", c.batch},
          {"ms_per_step", ms_per_step}, {"img_per_s", img_per_s},
          {"peak_mb", peak_mb},        {"held_mb", held_mb},
          {"gflop_per_step", gflop_per_step},
          {"tflop_s", tflop_s},        {"mfu", mfu},
          {"cuda_graph", c.cuda_graph}, {"graph_nodes", graph_nodes},
          {"graph_replays", graph_replays}, {"graph_failure", graph_failure}};
}

TrainBenchResult bench_train_case(const ContextOptions& copt, const TrainBenchCase& c, int warmup, int steps,
                                  const DeviceLimits& limits) {
  Context ctx(copt);
  TrainConfig cfg;
  cfg.model.arch = c.arch;
  cfg.model.image_size = c.image_size;
  cfg.model.channels = 3;
  cfg.discriminators = c.discriminators;
  cfg.batch_size = c.batch;
  validate(cfg);
  GanTrainer trainer(ctx, cfg);
  trainer.init_weights();
  trainer.use_cuda_graph(c.cuda_graph && ctx.on_cuda());
  Tensor real = ctx.alloc({c.batch, 3, c.image_size, c.image_size});
  fill_normal(ctx, real, 0.0f, 0.5f, 7, 99);
  const std::vector<double> ms =
      time_repeats_ms(ctx, [&] { trainer.train_step(real); }, {warmup, steps, /*flush_l2=*/false});
  ctx.synchronize();
  const StepGraph* graph = trainer.cuda_graph();

  TrainBenchResult r;
  r.c = c;
  r.ms_per_step = median(ms);
  r.img_per_s = c.batch / (r.ms_per_step * 1e-3);
  r.peak_mb = double(ctx.arena().peak_bytes()) / (1 << 20);
  r.held_mb = double(ctx.arena().held_peak_bytes()) / (1 << 20);
  const double f_g = 2.0 * double(network_forward_macs(trainer.generator())) * c.batch;
  const double f_d = 2.0 * double(network_forward_macs(trainer.discriminators()[0])) * c.batch;
  r.gflop_per_step = (3 * f_g + (7 * c.discriminators + 1) * f_d) / 1e9;
  r.tflop_s = r.gflop_per_step / r.ms_per_step;  // GFLOP / ms = TFLOP / s
  r.mfu = limits.gemm_tflop_s > 0 ? r.tflop_s / limits.gemm_tflop_s : 0;
  if (graph) {
    r.graph_nodes = graph->nodes();
    r.graph_replays = std::min<int64_t>(graph->launches(), steps);
    r.graph_failure = graph->failure();
  }
  return r;
}

}  // namespace dg
