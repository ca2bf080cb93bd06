// dgbench train: whole K-discriminator training steps (DESIGN §5) on one device, per
// (model, K, batch): median ms/step, img/s, peak arena bytes (with the ops' workspaces, and held:
// without them, the same on every backend; engine/arena.h), and model FLOP utilisation.
//
// Model FLOPs of one step, with F_G and F_D the forward FLOPs of G and of one D on the batch
// (2 x multiply-adds, counted from the layer shapes; a backward pass is 2 forwards: data and
// filter gradients):
//   G: forward 1 + backward 2                                  = 3 F_G
//   each D: forward on real and fake 2 + backward for both 4   = 6 F_D
//   generator loss: each D on the fake again 1, backward (data only) through the selected 1
//   total = 3 F_G + (7K + 1) F_D
// This is what the algorithm needs, not what an implementation happens to execute (PyTorch's
// loss.backward() also computes D's weight gradients in the generator phase).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/context.h"
#include "engine/timing.h"

namespace dg {

struct TrainBenchCase {
  std::string arch = "dcgan";  // dcgan, image size below
  int image_size = 32, discriminators = 2, batch = 64;
  bool cuda_graph = false;  // GPU: the steps replayed as one CUDA graph (engine/step_graph.h)
};

struct TrainBenchResult {
  TrainBenchCase c;
  double ms_per_step = 0, img_per_s = 0, peak_mb = 0, held_mb = 0, gflop_per_step = 0, tflop_s = 0, mfu = 0;
  int64_t graph_nodes = 0, graph_replays = 0;  // with cuda_graph: the graph's nodes, the timed steps replayed
  std::string graph_failure;                   // why no graph was captured, if so
  nlohmann::json to_json() const;
};

// Runs `warmup` untimed steps, then `steps` timed ones; each case on a fresh context so its
// peak memory is its own.
TrainBenchResult bench_train_case(const ContextOptions& copt, const TrainBenchCase& c, int warmup, int steps,
                                  const DeviceLimits& limits);

}  // namespace dg
