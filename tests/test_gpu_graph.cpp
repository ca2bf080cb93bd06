// The training step as one CUDA graph (engine/step_graph.h, GanTrainer::use_cuda_graph): a run
// whose steps are replays of one captured graph equals a run whose steps are queued one by one,
// bit for bit (K = 2: max, max-sample, and mean with synchronized BN over one process), step
// counter, learning-rate decay and noise offsets included (each replay reads
// them from device memory; a value frozen into the graph at its capture would show from the
// second replay on). Under the emulator the graph's nodes run in an order their dependencies
// allow (forward, reverse or random): a dependency the capture missed shows too.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bench/step_model.h"
#include "engine/batch_upload.h"
#include "models/gan_trainer.h"
#include "tests/gpu_twin.h"

#ifdef DG_CUDA_EMU
#include "dgemu/introspect.h"
#endif

using namespace dg;
using dg::test::gpu;

namespace {

std::vector<float> host(Context& ctx, const Tensor& t) {
  std::vector<float> h(size_t(t.numel()));
  if (t.numel() > 0) ctx.download(t, h.data());
  return h;
}

// The same bits (memcmp: -0 is not +0, a NaN equals itself).
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Every value a checkpoint holds, of G and each D, one after the other.
std::vector<float> state(Context& ctx, GanTrainer& t) {
  std::vector<float> all;
  auto add = [&](const ParamStore& p) {
    for (const Tensor& x : {p.params(), p.buffers(), p.exp_avg(), p.exp_avg_sq()}) {
      const std::vector<float> h = host(ctx, x);
      all.insert(all.end(), h.begin(), h.end());
    }
  };
  add(t.generator().params);
  for (Network& d : t.discriminators()) add(d.params);
  return all;
}

TrainConfig tiny(GLoss mode, bool sync_bn = false) {
  TrainConfig cfg;  // K = 2
  cfg.model.nz = 16;
  cfg.model.ngf = cfg.model.ndf = 8;
  cfg.batch_size = 4;
  cfg.g_loss.mode = mode;
  cfg.sync_bn = sync_bn;  // (one process: the split batchnorm kernels at every layer)
  cfg.lr_decay_linear = true;  // the learning rate changes every step
  cfg.total_steps = 8;
  return cfg;
}

ContextOptions deterministic_gpu() {
  ContextOptions o = gpu(false);
  o.deterministic = true;
  return o;
}

// Two trainers from the same weights on one context (the same convolution algorithms,
// deterministic ones): one replays a CUDA graph, one queues its steps; batches of `shape`
// arrive through one BatchUpload.
struct GraphedAndQueued {
  Context dev{deterministic_gpu()};
  GanTrainer graphed, queued;
  BatchUpload up;
  GraphedAndQueued(const TrainConfig& cfg, Shape shape) : graphed(dev, cfg), queued(dev, cfg), up(dev, shape) {
    graphed.init_weights();
    queued.init_weights();
    graphed.use_cuda_graph(true);
  }
  void step(const Tensor& real) {
    graphed.train_step(real);
    queued.train_step(real);
  }
};

}  // namespace

TEST_CASE("training steps replayed as one CUDA graph equal the steps queued one by one, bit for bit") {
  for (auto [mode, sync] : {std::pair{GLoss::max, false}, {GLoss::max_sample, false}, {GLoss::mean, true}}) {
    CAPTURE(int(mode));
    CAPTURE(sync);
    const Shape shape{4, 1, 32, 32};
    GraphedAndQueued t(tiny(mode, sync), shape);
    Context& dev = t.dev;
    GanTrainer &graphed = t.graphed, &queued = t.queued;
    std::vector<float> batch(size_t(shape.numel()));
    for (int step = 0; step < 6; step++) {
      for (size_t i = 0; i < batch.size(); i++) batch[i] = float(int((i * 7 + size_t(step) * 13) % 41) - 20) / 20.0f;
      t.step(t.up.next(batch.data()));
      if (step == 3) {  // statistics read between replays (it resets the selection counts)
        const StepStats a = graphed.stats(), b = queued.stats();
        CHECK(a.g_loss == b.g_loss);
        CHECK(a.selected == b.selected);
      }
    }
    // Steps 0 and 1 ran as they are (the warm-up), step 2 was captured, steps 2-5 were replays.
    REQUIRE(graphed.cuda_graph() != nullptr);
    CHECK(graphed.cuda_graph()->failure() == "");
    CHECK(graphed.cuda_graph()->eager() == 2);
    CHECK(graphed.cuda_graph()->captures() == 1);
    CHECK(graphed.cuda_graph()->launches() == 4);
    // The graph's nodes, and what a replay runs, are what dgbench's step model counts
    // (bench/step_model.h): under max one D's backward runs in the G step, the other's
    // conditional node skips it; under max-sample those given a sample (the model: all). On a
    // GPU a cuDNN call may add nodes of its own (the emulator makes one node per call).
    const StepModel replay = model_step(tiny(mode, sync), true);
#ifdef DG_CUDA_EMU
    dev.synchronize();  // (the last replay has run)
    CHECK(graphed.cuda_graph()->nodes() == replay.nodes);
    if (mode == GLoss::max_sample) CHECK(dgemu_graph_nodes_run() <= size_t(replay.launches));  // (an upper bound)
    else CHECK(dgemu_graph_nodes_run() == size_t(replay.launches));
#else
    CHECK(graphed.cuda_graph()->nodes() >= replay.nodes);
#endif
    CHECK(graphed.step() == 6);
    const StepStats a = graphed.stats(), b = queued.stats();
    CHECK(a.g_loss == b.g_loss);
    CHECK(a.d_real == b.d_real);
    CHECK(a.d_fake == b.d_fake);
    CHECK(a.selected == b.selected);
    CHECK(same_bits(state(dev, graphed), state(dev, queued)));
    CHECK(graphed.first_nonfinite_step() == -1);
  }
}

#ifdef DG_CUDA_EMU
// Without conditional nodes (a runtime that says it has none: dgemu_set_conditional_nodes(0))
// the step is captured with every D's backward as it is; when a capture fails in one (-1:
// making the node; -2: capturing its body, as a kernel a body may not hold would), the step
// runs as it is and the next is captured without them. Each way the replays equal the queued
// steps, and run what a queued step runs.
TEST_CASE("without conditional graph nodes, or after a capture failed in one, the graph runs every D's backward") {
  for (int mode : {0, -1, -2}) {
    CAPTURE(mode);
    dgemu_set_conditional_nodes(mode);
    const Shape shape{4, 1, 32, 32};
    GraphedAndQueued t(tiny(GLoss::max), shape);
    std::vector<float> batch(size_t(shape.numel()), 0.25f);
    for (int step = 0; step < 6; step++) {
      batch[size_t(step)] = -0.5f;
      t.step(t.up.next(batch.data()));
    }
    const StepGraph& g = *t.graphed.cuda_graph();
    CHECK(g.failure() == "");
    CHECK(g.captures() == 1);
    CHECK(g.eager() == (mode == 0 ? 2 : 3));
    CHECK(g.conditional_failure().empty() == (mode == 0));
    INFO(g.conditional_failure());
    if (mode < 0)
      CHECK(g.conditional_failure().find("dgemu_set_conditional_nodes(" + std::to_string(mode) + ")") != std::string::npos);
    CHECK(same_bits(state(t.dev, t.graphed), state(t.dev, t.queued)));
    t.dev.synchronize();
    CHECK(dgemu_graph_nodes_run() == size_t(model_step(tiny(GLoss::max), false).launches));
  }
  dgemu_set_conditional_nodes(1);
}
#endif

TEST_CASE("a CUDA graph is captured again when the step's memory moves, and the results stay equal") {
  const Shape shape{4, 1, 32, 32};
  GraphedAndQueued t(tiny(GLoss::max), shape);
  Context& dev = t.dev;
  GanTrainer &graphed = t.graphed, &queued = t.queued;
  std::vector<float> batch(size_t(shape.numel()), 0.25f);
  Tensor other = dev.alloc(shape);  // a second batch tensor: another key
  dev.upload(other, batch.data());
  for (int step = 0; step < 7; step++) {
    batch[size_t(step)] = -0.5f;
    Tensor real = t.up.next(batch.data());
    if (step == 3) real = other;       // another batch address: run as it is
    if (step == 5) dev.alloc({1000});  // the arena moved: the step's scratch moved
    t.step(real);
  }
  // As they are: steps 0 and 1 (the warm-up), 3 (another key), 4 (the first key again: a
  // warm-up), 5 (the arena moved: a warm-up). Captured at steps 2 and 6, the replays.
  CHECK(graphed.cuda_graph()->eager() == 5);
  CHECK(graphed.cuda_graph()->captures() == 2);
  CHECK(graphed.cuda_graph()->launches() == 2);
  CHECK(same_bits(state(dev, graphed), state(dev, queued)));
}
