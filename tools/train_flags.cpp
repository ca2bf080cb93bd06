#include "tools/train_flags.h"

#include "tools/run/distributed.h"

namespace dg {

namespace {

// Data and Model: what is learnt, and by which networks.
void add_data_and_model_flags(CLI::App& app, TrainOptions& o) {
  TrainConfig& t = o.train;
  app.add_option("--data", o.data, "dataset: a path (file or folder), or the name fashion-mnist")->group("Data");
  app.add_option("--data-format", o.data_format, "dataset format")
      ->check(CLI::IsMember({"auto", "idx", "cifar10", "cifar100", "svhn", "folder"}))
      ->group("Data");
  app.add_option("--image-size", t.model.image_size, "image size S (dcgan: 32, 64, 128; seed32: 32)")
      ->check(CLI::IsMember({32, 64, 128}))
      ->group("Model");
  app.add_option("--channels", t.model.channels, "image channels: 0 = the data's, 1, or 3 (grayscale data is repeated)")
      ->check(CLI::IsMember({0, 1, 3}))
      ->group("Model");
  app.add_option("--arch", t.model.arch, "network family")->check(CLI::IsMember({"dcgan", "seed32"}))->group("Model");
  app.add_option("--nz", t.model.nz, "noise dimension")->check(CLI::Range(1, 4096))->group("Model");
  app.add_option("--ngf", t.model.ngf, "generator width")->check(CLI::Range(1, 1024))->group("Model");
  app.add_option("--ndf", t.model.ndf, "discriminator width")->check(CLI::Range(1, 1024))->group("Model");
  app.add_option("--g-act", o.g_act, "generator activation")->check(CLI::IsMember({"relu", "mish"}))->group("Model");
}

// Training: the networks' losses, optimizers, length and seed.
void add_training_flags(CLI::App& app, TrainOptions& o) {
  const CLI::Range non_negative(int64_t(0), int64_t(1) << 40);
  TrainConfig& t = o.train;
  app.add_option("--discriminators", t.discriminators, "number of discriminators K")
      ->check(CLI::Range(1, 16))
      ->group("Training");
  app.add_option("--g-loss", o.g_loss, "how G combines the K discriminators' losses")
      ->check(CLI::IsMember({"max", "max-sample", "mean", "softmax", "gman", "seed"}))
      ->group("Training");
  app.add_option("--softmax-lambda", t.g_loss.lambda, "temperature of --g-loss softmax and gman")
      ->check(CLI::Range(0.0f, 1000.0f))
      ->group("Training");
  app.add_option("--batch-size", t.batch_size, "images per step")->check(CLI::Range(2, 65536))->group("Training");
  app.add_option("--epochs", o.epochs, "passes over the data (used when --steps is 0)")->check(non_negative)->group("Training");
  app.add_option("--steps", o.steps, "training steps (0: --epochs, or the default run of " +
                                         std::to_string(kDefaultSteps) + " steps)")
      ->check(non_negative)
      ->group("Training");
  app.add_option("--lr-g", t.adam_g.lr, "generator learning rate")->check(CLI::Range(1e-8f, 1.0f))->group("Training");
  app.add_option("--lr-d", t.adam_d.lr, "discriminator learning rate")->check(CLI::Range(1e-8f, 1.0f))->group("Training");
  app.add_option("--beta1", t.adam_g.beta1, "Adam beta1 (all networks)")->check(CLI::Range(0.0f, 0.9999f))->group("Training");
  app.add_option("--beta2", t.adam_g.beta2, "Adam beta2 (all networks)")->check(CLI::Range(0.0f, 0.99999f))->group("Training");
  app.add_option("--lr-decay", o.lr_decay, "learning-rate schedule")
      ->check(CLI::IsMember({"none", "linear"}))
      ->group("Training");
  app.add_option("--label-smooth", t.label_smooth, "real label 1 - this for the discriminators")
      ->check(CLI::Range(0.0f, 0.49f))
      ->group("Training");
  app.add_option("--seed", t.seed, "seed of weights, noise and data order")->group("Training");
}

// Run: device, run folder, what is written and when.
void add_run_flags(CLI::App& app, TrainOptions& o) {
  const CLI::Range non_negative(int64_t(0), int64_t(1) << 40);
  app.add_option("--device", o.device, "auto: the GPU when there is one, else the CPU")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->group("Run");
  app.add_flag("--deterministic", o.deterministic,
               "GPU: only deterministic cuDNN convolution algorithms, so a run and its resume repeat bit for bit "
               "(may be slower; the CPU backend is always deterministic)")
      ->group("Run");
  app.add_option("--cuda-graph", o.cuda_graph,
                 "GPU: on: after two warm-up steps, capture the step as one CUDA graph and replay it (the same "
                 "results, one launch per step)")
      ->check(CLI::IsMember({"on", "off"}))
      ->group("Run");
  app.add_option("--out", o.out, "folder that holds run folders")->group("Run");
  app.add_option("--run-name", o.run_name, "run folder name (default: model, K, g-loss and the time)")->group("Run");
  app.add_option("--sample-every", o.sample_every, "steps between sample grids (0: only at the end)")->check(non_negative)->group("Run");
  app.add_option("--checkpoint-every", o.checkpoint_every, "steps between checkpoints (0: only at the end)")
      ->check(non_negative)
      ->group("Run");
  app.add_option("--keep-checkpoints", o.keep_checkpoints,
                 "keep only the newest N checkpoints (0: all; the one a resume started from is never deleted)")
      ->check(CLI::Range(0, 1 << 20))
      ->group("Run");
  app.add_option("--dashboard", o.dashboard, "on: draw dashboard.png (losses, FID, img/s, selections) at the end, "
                 "with tools/dgplot.py (python3 and matplotlib)")
      ->check(CLI::IsMember({"on", "off"}))
      ->group("Run");
  app.add_option("--log-every", o.log_every, "steps between metrics lines")->check(CLI::Range(int64_t(1), int64_t(1) << 40))->group("Run");
  app.add_option("--resume", o.resume, "continue the run in this folder (its config.json is used)")->group("Run");
}

// Evaluation during training (tools/run/train_eval.h).
void add_evaluation_flags(CLI::App& app, TrainOptions& o) {
  const CLI::Range non_negative(int64_t(0), int64_t(1) << 40);
  app.add_option("--eval-every", o.eval_every, "steps between FID/IS evaluations (0: none)")->check(non_negative)->group("Evaluation");
  app.add_option("--eval-samples", o.eval_samples, "generated and real samples per evaluation")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 24))
      ->group("Evaluation");
  app.add_option("--eval-features", o.eval_features,
                 "feature network: a classifier from `dgeval train-classifier` or converted FID Inception weights")
      ->check(CLI::ExistingFile)
      ->group("Evaluation");
  app.add_option("--target-fid", o.target_fid, "record the step and wall time FID first reaches this (0: none)")
      ->check(CLI::Range(0.0, 1e9))
      ->group("Evaluation");
  app.add_option("--early-stop", o.early_stop,
                 "stop after this many evaluations without a better FID (0: never); the best is kept")
      ->check(CLI::Range(0, 1 << 20))
      ->group("Evaluation");
}

}  // namespace

void add_train_flags(CLI::App& app, TrainOptions& o) {
  app.option_defaults()->always_capture_default();
  add_data_and_model_flags(app, o);
  add_training_flags(app, o);
  add_run_flags(app, o);
  add_evaluation_flags(app, o);
}

void add_distributed_flags(CLI::App& app, TrainConfig& train) {
  app.add_flag("--sync-bn", train.sync_bn,
               "several ranks: BatchNorm statistics over all ranks' batches (default: each rank's own, as "
               "PyTorch DDP)")
      ->group("Run");
  app.add_option_function<double>(
         "--grad-bucket-mb",
         [&train](double mb) {
           train.grad_bucket_bytes = int64_t(mb * kMiB);
           if (mb > 0 && train.grad_bucket_bytes == 0)  // (CLI11 reports its own errors while parsing)
             throw CLI::ValidationError("--grad-bucket-mb", std::to_string(mb) +
                                                                " MiB is less than one byte (0 turns the buckets off)");
         },
         "several ranks: gradients are averaged in buckets of this many MiB while the backward runs "
         "(0: one average per network after its backward, no overlap)")
      ->check(CLI::Range(0.0, 1024.0))
      ->default_str("2")
      ->group("Run");
}

std::set<std::string> given_flags(const CLI::App& app) {
  std::set<std::string> given;
  for (const CLI::Option* opt : app.get_options())
    if (opt->count() > 0 && !opt->get_lnames().empty()) given.insert("--" + opt->get_lnames()[0]);
  return given;
}

}  // namespace dg
