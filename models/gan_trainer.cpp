#include "models/gan_trainer.h"

#include "kernels/bce/bce.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/random/random.h"

#include <algorithm>
#include <cmath>

namespace dg {

void validate(const TrainConfig& c) {
  validate(c.model);
  DG_CHECK(c.discriminators >= 1 && c.discriminators <= 16, "--discriminators ", c.discriminators,
           " is out of range (1..16)");
  DG_CHECK(c.batch_size >= 2, "--batch-size ", c.batch_size, " is too small (batchnorm needs at least 2)");
  DG_CHECK(c.g_loss.mode != GLoss::seed || c.discriminators == 2, "--g-loss seed is defined for exactly 2 "
           "discriminators, got --discriminators ", c.discriminators);
  DG_CHECK(c.label_smooth >= 0.0f && c.label_smooth < 0.5f, "--label-smooth ", c.label_smooth,
           " is out of range [0, 0.5)");
  for (const AdamConfig* a : {&c.adam_g, &c.adam_d}) {
    DG_CHECK(a->lr > 0.0f && a->lr < 1.0f, "learning rate ", a->lr, " is out of range (0, 1)");
    DG_CHECK(a->beta1 >= 0.0f && a->beta1 < 1.0f, "--beta1 ", a->beta1, " is out of range [0, 1)");
    DG_CHECK(a->beta2 >= 0.0f && a->beta2 < 1.0f, "--beta2 ", a->beta2, " is out of range [0, 1)");
  }
  DG_CHECK(!c.lr_decay_linear || c.total_steps > 0, "--lr-decay linear needs a known number of steps");
  DG_CHECK(c.grad_bucket_bytes >= 0, "--grad-bucket-mb must not be negative, got ", c.grad_bucket_bytes, " bytes");
}

static Communicator& comm_or_own(Communicator* given, std::unique_ptr<Communicator>& own) {
  if (given) return *given;
  own = make_single_process_communicator();
  return *own;
}

GanTrainer::GanTrainer(Context& ctx, const TrainConfig& cfg, Communicator* comm)
    : ctx_(ctx), cfg_(cfg), comm_(comm_or_own(comm, own_comm_)) {
  validate(cfg_);
  const int K = cfg_.discriminators;
  g_ = build_generator(cfg_.model);
  g_.params.allocate(ctx_);
  for (int i = 0; i < K; i++) {
    d_.push_back(build_discriminator(cfg_.model, i));
    d_.back().params.allocate(ctx_);
  }
  if (cfg_.grad_bucket_bytes > 0) {  // (a single process's means are no-ops)
    g_buckets_.emplace(g_, cfg_.grad_bucket_bytes);
    for (const Network& d : d_) d_buckets_.emplace_back(d, cfg_.grad_bucket_bytes);
  }
  if (cfg_.sync_bn) {
    g_.bn.sync = &comm_;
    for (Network& d : d_) d.bn.sync = &comm_;
  }
  stats_ = ctx_.zeros({2 + 4 * K});
  g_loss_ = stats_.slice(0, {1});
  d_real_ = stats_.slice(1, {K});
  d_fake_ = stats_.slice(1 + K, {K});
  selected_ = stats_.slice(1 + 2 * K, {K});
  seed_scores_ = stats_.slice(1 + 3 * K, {K});
  first_bad_ = stats_.slice(1 + 4 * K, {1});
  step_count_ = alloc_step_counter(ctx_, 0);
}

void GanTrainer::set_step(int64_t s) {
  step_ = s;
  set_step_counter(ctx_, step_count_, s);
}

void GanTrainer::init_weights() {
  init_parameters(ctx_, g_.params, cfg_.seed, rng_stream::init_generator);
  for (int i = 0; i < int(d_.size()); i++)
    init_parameters(ctx_, d_[i].params, cfg_.seed, rng_stream::init_discriminator(i));
}

void GanTrainer::broadcast_state() {
  if (comm_.world_size() == 1) return;
  auto share = [&](const ParamStore& p) {
    for (const Tensor& t : {p.params(), p.buffers(), p.exp_avg(), p.exp_avg_sq()}) comm_.broadcast(ctx_, t, 0);
  };
  share(g_.params);
  for (const Network& d : d_) share(d.params);
  comm_.broadcast_host(&step_, sizeof step_, 0);
  set_step_counter(ctx_, step_count_, step_);
}

void GanTrainer::train_step(const Tensor& real) {
  check_shape(real, {cfg_.batch_size, cfg_.model.channels, cfg_.model.image_size, cfg_.model.image_size}, "real batch");
  if (graph_) graph_->run(real.data, [&] { queue_step(real, nullptr); });
  else queue_step(real, nullptr);
  comm_.check_errors();  // (a replayed step calls nothing else of the communicator)
  step_++;
}

void GanTrainer::train_step(const Tensor& real, const Tensor& z) {
  check_shape(real, {cfg_.batch_size, cfg_.model.channels, cfg_.model.image_size, cfg_.model.image_size}, "real batch");
  check_shape(z, {cfg_.batch_size, cfg_.model.nz, 1, 1}, "noise batch");
  queue_step(real, &z);
  step_++;
}

void GanTrainer::use_cuda_graph(bool on) {
  if (on && !graph_) graph_ = std::make_unique<StepGraph>(ctx_);
  if (!on) graph_.reset();
}

// Everything a step queues, with the step read from the device's counter: what a CUDA graph
// captures once (train_step(real)) and replays.
void GanTrainer::queue_step(const Tensor& real, const Tensor* given_z) {
  const int B = cfg_.batch_size, nz = cfg_.model.nz;
  ScratchScope scratch(ctx_);  // every activation of this step is released at its end
  const StepIndex step = StepIndex::counted(step_count_);
  Tensor z;
  if (given_z) {
    z = *given_z;
  } else {
    // Rows [rank B, (rank + 1) B) of the global batch's noise: W ranks of batch B draw what
    // one process with batch W B would (step t's rows start at (t W + rank) B nz).
    z = ctx_.alloc({B, nz, 1, 1});
    const uint64_t W = uint64_t(comm_.world_size()), rank = uint64_t(comm_.rank()), row = uint64_t(B) * nz;
    fill_normal(ctx_, z, 0.0f, 1.0f, cfg_.seed, rng_stream::train_noise, RngOffset(rank * row, step, W * row));
  }

  // 1. fake = G(z)
  Trace g_trace;
  Tensor fake = generate(z, &g_trace);

  // 2. each discriminator learns on the real batch and the (detached) fake batch; the
  //    gradient means of D_i run beside the later D's passes. What a D pass allocates is free
  //    again after it (its gradients and losses go to memory held outside the step).
  for (int i = 0; i < int(d_.size()); i++) {
    ScratchScope pass(ctx_);
    d_backward(i, real, fake);
  }
  average_d_losses();     // (a collective: with several ranks it also completes the means)
  comm_.finish_means(ctx_);
  for (Network& d : d_) adam(d, cfg_.adam_d);
  if (cfg_.g_loss.mode == GLoss::seed) seed_selection_scores(ctx_, d_real_, d_fake_, seed_scores_);

  // 3. the generator learns against the updated discriminators
  g_step(g_trace);
  record_nonfinite(ctx_, stats_.slice(0, {1 + 2 * int(d_.size())}), step, first_bad_);
  count_step(ctx_, step_count_);
}

Tensor GanTrainer::generate(const Tensor& z, Trace* trace) {
  *trace = network_forward(ctx_, g_, z, Mode::train);
  return trace->output();
}

// D_i's gradients of the step (its Adam step comes after all D's, in train_step).
void GanTrainer::d_backward(int i, const Tensor& real, const Tensor& fake) {
  Network& d = d_[i];
  const int B = cfg_.batch_size;
  d.params.zero_grads(ctx_);
  // Real: target 1 (or 1 - label_smooth). Parameter gradients accumulate over both passes.
  {
    ScratchScope real_pass(ctx_);
    Tensor dlogits = ctx_.alloc({B, 1, 1, 1});
    Trace real_trace = network_forward(ctx_, d, real, Mode::train);
    bce_with_logits(ctx_, real_trace.output(), 1.0f - cfg_.label_smooth, Tensor{}, d_real_.slice(i, {1}), dlogits);
    network_backward(ctx_, d, real_trace, dlogits, Tensor{}, true);
  }
  // Fake: target 0; no gradient flows into G here.
  Tensor dlogits = ctx_.alloc({B, 1, 1, 1});
  Trace fake_trace = network_forward(ctx_, d, fake, Mode::train);
  bce_with_logits(ctx_, fake_trace.output(), 0.0f, Tensor{}, d_fake_.slice(i, {1}), dlogits);
  last_backward(d, d_buckets_.empty() ? nullptr : &d_buckets_[i], fake_trace, dlogits);
}

// The backward that completes net's parameter gradients, and their mean over the ranks:
// bucket by bucket as the backward passes them (the caller ends with finish_means()), or in
// one mean after it when there are no buckets.
void GanTrainer::last_backward(Network& net, const GradBuckets* buckets, const Trace& trace, const Tensor& dy) {
  if (buckets == nullptr) {
    network_backward(ctx_, net, trace, dy, Tensor{}, true);
    comm_.all_reduce_mean(ctx_, net.params.grads());
    return;
  }
  const Tensor grads = net.params.grads();
  network_backward(ctx_, net, trace, dy, Tensor{}, true,
                   [&](int layer) { buckets->layer_done(ctx_, comm_, grads, layer); });
}

void GanTrainer::g_step(const Trace& g_trace) {
  Tensor dfake = ctx_.alloc(g_trace.output().shape);
  {
    ScratchScope d_passes(ctx_);  // the D's passes are free again before G's backward
    fake_gradient(g_trace.output(), dfake);
  }
  g_.params.zero_grads(ctx_);
  last_backward(g_, g_buckets_ ? &*g_buckets_ : nullptr, g_trace, dfake);
  comm_.finish_means(ctx_);
  adam(g_, cfg_.adam_g);
}

// dfake = the gradient of the generator's loss at the fake images, through the K D's.
void GanTrainer::fake_gradient(const Tensor& fake, Tensor dfake) {
  const int K = int(d_.size()), B = cfg_.batch_size;
  // Every D scores the fake batch; the K logit vectors go side by side.
  std::vector<Trace> traces;
  Tensor logits = ctx_.alloc({K, B});
  for (int i = 0; i < K; i++) {
    traces.push_back(network_forward(ctx_, d_[i], fake, Mode::train));
    copy(ctx_, traces[i].output(), logits.slice(int64_t(i) * B, {B}));
  }
  Tensor dlogits = ctx_.alloc({K, B});
  if (comm_.world_size() == 1) {
    generator_loss(ctx_, cfg_.g_loss, logits, seed_scores_, g_loss_, dlogits, selected_);
  } else if (cfg_.g_loss.mode != GLoss::max_sample) {
    // Select and weigh with the batch means of the global batch: the same choice on every rank.
    generator_loss(ctx_, cfg_.g_loss, logits, seed_scores_, g_loss_, dlogits, selected_, global_g_means(logits));
  } else {
    // Per-sample routing needs nothing from the other ranks; the loss and the selected
    // fractions of this step are averaged for the log.
    Tensor local = ctx_.zeros({1 + K});  // [loss, selected (K)]
    generator_loss(ctx_, cfg_.g_loss, logits, seed_scores_, local.slice(0, {1}), dlogits, local.slice(1, {K}));
    comm_.all_reduce_mean(ctx_, local);
    copy(ctx_, local.slice(0, {1}), g_loss_);
    axpy(ctx_, 1.0f, local.slice(1, {K}), selected_);
  }
  // Gradient at the fake images: the sum over the D's of their input gradients (D's own
  // parameter gradients are not wanted). With several D's, one whose dlogits are all zero (not
  // selected by `max` or `seed`, or given no sample by `max-sample`) contributes zeros, so its
  // backward runs only when_any_nonzero (engine/context.h): skipped on the CPU, which looks,
  // and in a replayed CUDA graph, which decides on the device; run, adding zeros, on CUDA
  // queued one by one (looking would cost a synchronization). dfake starts at zero and every D
  // that runs adds to it, so every way gives the same bits (unless a skipped D's weights or
  // activations hold an inf or NaN: queued, 0 x inf makes NaN). With synchronized batchnorm over
  // several ranks a D's backward holds collectives (and max-sample's choices differ between
  // ranks): there every D's runs.
  if (K == 1) return network_backward(ctx_, d_[0], traces[0], dlogits.slice(0, {B, 1, 1, 1}), dfake, false);
  const bool may_skip = comm_.world_size() == 1 || !cfg_.sync_bn;
  ctx_.fill(dfake, 0.0f);
  Tensor dfake_i = ctx_.alloc(fake.shape);
  for (int i = 0; i < K; i++) {
    const Tensor dl = dlogits.slice(int64_t(i) * B, {B, 1, 1, 1});
    auto add_input_gradient = [&] {
      ScratchScope backward(ctx_);
      network_backward(ctx_, d_[i], traces[i], dl, dfake_i, false);
      axpy(ctx_, 1.0f, dfake_i, dfake);
    };
    if (may_skip) ctx_.when_any_nonzero(dl, add_input_gradient);
    else add_input_gradient();
  }
}

// The D losses of this step (logged, and the `seed` rule's scores) over the global batch.
void GanTrainer::average_d_losses() {
  if (comm_.world_size() > 1) comm_.all_reduce_mean(ctx_, stats_.slice(1, {2 * int(d_.size())}));
}

// L_i = mean_b BCE(D_i(fake)_b, 1) of this rank's batch, averaged over the ranks: the mean
// over the global batch (every rank's batch has B rows). (K), in the caller's scratch.
Tensor GanTrainer::global_g_means(const Tensor& logits) {
  const int K = int(d_.size()), B = cfg_.batch_size;
  Tensor means = ctx_.alloc({K});
  for (int i = 0; i < K; i++)
    bce_with_logits(ctx_, logits.slice(int64_t(i) * B, {B}), 1.0f, Tensor{}, means.slice(i, {1}), Tensor{});
  comm_.all_reduce_mean(ctx_, means);
  return means;
}

AdamConfig GanTrainer::scheduled(const AdamConfig& cfg) const {
  AdamConfig a = cfg;
  a.decay_steps = cfg_.lr_decay_linear ? cfg_.total_steps : 0;
  return a;
}

float GanTrainer::lr(const AdamConfig& cfg, int64_t index) const { return learning_rate(scheduled(cfg), index); }

// Adam's step and learning rate come from the device's step counter.
void GanTrainer::adam(Network& net, const AdamConfig& cfg) {
  const ParamStore& p = net.params;
  adam_step(ctx_, scheduled(cfg), StepIndex::counted(step_count_), p.params(), p.grads(), p.exp_avg(),
            p.exp_avg_sq());
}

StepStats GanTrainer::stats() {
  const int K = int(d_.size());
  std::vector<float> host(size_t(stats_.numel()));
  ctx_.download(stats_, host.data());
  StepStats s;
  s.g_loss = host[0];
  s.d_real.assign(host.begin() + 1, host.begin() + 1 + K);
  s.d_fake.assign(host.begin() + 1 + K, host.begin() + 1 + 2 * K);
  s.selected.assign(host.begin() + 1 + 2 * K, host.begin() + 1 + 3 * K);
  ctx_.fill(selected_, 0.0f);
  return s;
}

int64_t GanTrainer::first_nonfinite_step() {
  float v = 0;
  ctx_.download(first_bad_, &v);
  return int64_t(v) - 1;
}

bool GanTrainer::state_finite() {
  ScratchScope scratch(ctx_);
  Tensor flag = ctx_.zeros({1});
  auto check = [&](const ParamStore& s) {
    for (const Tensor& t : {s.params(), s.buffers(), s.exp_avg(), s.exp_avg_sq()})
      if (t.data != nullptr && t.numel() > 0) record_nonfinite(ctx_, t, StepIndex{0}, flag);
  };
  check(g_.params);
  for (Network& d : d_) check(d.params);
  float v = 0;
  ctx_.download(flag, &v);
  return v == 0.0f;
}

Tensor GanTrainer::generate_eval(const Tensor& z) { return network_forward(ctx_, g_, z, Mode::eval).output(); }

}  // namespace dg
