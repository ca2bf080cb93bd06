// The K-discriminator GAN training step (DESIGN §5), on either backend.
//
// One step, with a batch of real images x (B, nc, S, S):
//   1. generate:  z ~ N(0, 1) from the step's RNG offset, fake = G(z)
//   2. d_step(i): for each D_i, BCE(D_i(x), 1) + BCE(D_i(fake), 0), own Adam step
//   3. g_step:    the updated D_i score fake; generator_loss() combines the K losses
//                 (max, max-sample, mean, softmax, gman, seed) and G takes its Adam step
// Nothing here reads device memory back: losses and selection counts accumulate in a
// device buffer that stats() downloads when the caller logs. What changes from step to step
// (the noise's offset, Adam's t and learning rate) the kernels read from a step counter in
// device memory that the step advances, so one captured CUDA graph can replay every step.
//
// Data parallel (DESIGN §8), with a Communicator of W ranks: batch_size is per rank (the
// global batch is W * B); rank r draws rows [r B, (r + 1) B) of the global batch's noise;
// each net's flat gradient buffer is averaged in buckets that start while its last backward
// still runs (models/grad_buckets.h; D_i's buckets also overlap D_(i+1)'s passes) and are
// waited for before the Adam steps, or, with grad_bucket_bytes 0, in one mean after the
// backward; the D losses and, before generator_loss(), the per-D batch-mean G losses are
// averaged, so the selection (and the losses logged) are those of the global batch on every
// rank; with sync_bn every BatchNorm uses the global batch's statistics. Every rank issues
// the same collectives in the same order.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/comm/communicator.h"
#include "engine/step_graph.h"
#include "kernels/adam/adam.h"
#include "kernels/generator_loss/generator_loss.h"
#include "models/dcgan.h"
#include "models/grad_buckets.h"

namespace dg {

struct TrainConfig {
  ModelConfig model;
  int discriminators = 2;   // K
  GLossConfig g_loss;
  int batch_size = 64;
  AdamConfig adam_g, adam_d;
  bool lr_decay_linear = false;  // lr falls linearly to 0 at total_steps
  int64_t total_steps = 0;
  float label_smooth = 0.0f;     // real target 1 - label_smooth for D
  uint64_t seed = 1;
  bool sync_bn = false;          // data parallel: BatchNorm statistics over all ranks' batches
  // Data parallel: gradient bucket size (0: no buckets, each net's mean after its backward).
  int64_t grad_bucket_bytes = int64_t(2) << 20;
};
void validate(const TrainConfig& cfg);

// RNG streams of a run (kernels/random/philox.h): each use has its own, so none shifts another.
namespace rng_stream {
constexpr uint64_t train_noise = 1;      // z of step t starts at offset t * B * nz
constexpr uint64_t sample_noise = 2;     // the fixed noise of sample grids
constexpr uint64_t eval_noise = 3;       // z of generated sample i for evaluation: offset i * nz
constexpr uint64_t init_generator = 1000;
constexpr uint64_t init_discriminator(int i) { return 2000 + 1000 * uint64_t(i); }
}  // namespace rng_stream

struct StepStats {
  float g_loss = 0;
  std::vector<float> d_real, d_fake;   // per D, BCE on real / fake, this step's values
  std::vector<float> selected;         // per D, selections summed since the last stats()
};

class GanTrainer {
 public:
  // comm: the ranks this trainer trains with (nullptr: a single process). It must outlive
  // the trainer.
  GanTrainer(Context& ctx, const TrainConfig& cfg, Communicator* comm = nullptr);

  void init_weights();                 // DESIGN §4 init, each D its own draw
  // Every rank takes rank 0's state: parameters, BN running statistics, Adam moments and the
  // step (after init_weights() or after rank 0 loaded a checkpoint). Collective.
  void broadcast_state();
  void train_step(const Tensor& real); // steps 1-3 above; advances step()
  // The same with the noise given (B, nz, 1, 1) instead of drawn (golden tests).
  void train_step(const Tensor& real, const Tensor& z);
  StepStats stats();                   // synchronizes; resets the selection counts
  // The first step (0-based) whose losses were NaN or Inf, or -1; synchronizes.
  int64_t first_nonfinite_step();
  // Whether everything a checkpoint holds is finite: every network's parameters, running
  // statistics and Adam moments (checked before a checkpoint: a NaN can reach the weights one
  // step before it reaches the losses, and an Inf in a moment leaves the weights finite);
  // synchronizes.
  bool state_finite();

  // Generator output in eval mode for the given noise (B, nz, 1, 1) -> (B, nc, S, S);
  // the result lives in the arena until the caller's scratch scope ends.
  Tensor generate_eval(const Tensor& z);

  int64_t step() const { return step_; }
  // The learning rate of 0-based step `index` for cfg (--lr-decay linear lowers it step by step).
  float lr(const AdamConfig& cfg, int64_t index) const;
  void set_step(int64_t s);  // (synchronous: the device's counter too)
  // CUDA: train_step(real) captures its step as a CUDA graph after two warm-up steps and replays
  // it (engine/step_graph.h); the results are the same bits. Off by default; no-op on the CPU.
  void use_cuda_graph(bool on);
  const StepGraph* cuda_graph() const { return graph_.get(); }
  const TrainConfig& config() const { return cfg_; }
  Network& generator() { return g_; }
  std::vector<Network>& discriminators() { return d_; }

 private:
  void queue_step(const Tensor& real, const Tensor* z);
  Tensor generate(const Tensor& z, Trace* trace);
  void d_backward(int i, const Tensor& real, const Tensor& fake);
  void g_step(const Trace& g_trace);
  void fake_gradient(const Tensor& fake, Tensor dfake);
  void last_backward(Network& net, const GradBuckets* buckets, const Trace& trace, const Tensor& dy);
  void adam(Network& net, const AdamConfig& cfg);
  AdamConfig scheduled(const AdamConfig& cfg) const;  // with the run's learning-rate decay

  void average_d_losses();
  Tensor global_g_means(const Tensor& logits);

  Context& ctx_;
  TrainConfig cfg_;
  std::unique_ptr<Communicator> own_comm_;  // the single-process one when none was given
  Communicator& comm_;
  Network g_;
  std::vector<Network> d_;
  // Gradient buckets of G and of each D; none with grad_bucket_bytes 0.
  std::vector<GradBuckets> d_buckets_;
  std::optional<GradBuckets> g_buckets_;
  int64_t step_ = 0;  // completed steps; Adam's t is step_ + 1
  // The same count in the device's memory, advanced by the step itself: the step's kernels
  // read it (noise offset, Adam's t and learning rate, the NaN record), so a captured step
  // stays valid (kernels/step_index.h).
  int64_t* step_count_ = nullptr;
  std::unique_ptr<StepGraph> graph_;
  // Device buffer: [g_loss, d_real[K], d_fake[K], selected[K], seed_scores[K], first_bad]
  Tensor stats_;
  Tensor g_loss_, d_real_, d_fake_, selected_, seed_scores_, first_bad_;
};

}  // namespace dg
