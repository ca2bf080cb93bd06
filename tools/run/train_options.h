// dgtrain's settings: the model/step configuration (models/gan_trainer.h) plus what the run
// does around it (data, device, run folder, logging), and their JSON schema: written to and
// read back from the run folder's config.json. (dgtrain's flags, bound to these fields, are
// registered in tools/train_flags.cpp; those a --resume accepts are in resume_flags.h.)
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "models/gan_trainer.h"

namespace dg {

struct TrainOptions {
  TrainOptions() { train.model.channels = 0; }
  TrainConfig train;  // train.model.channels 0 means "as the data" until the data is read
  std::string data = "fashion-mnist";
  std::string data_format = "auto";
  std::string device = "auto";   // auto | cpu | cuda
  bool deterministic = false;    // GPU: deterministic cuDNN algorithms (the CPU always is)
  std::string cuda_graph = "on"; // GPU: each step one CUDA graph replay (engine/step_graph.h)
  std::string out = "runs";
  std::string run_name;          // default: derived from the model and the time
  int64_t steps = 0;             // 0: from epochs
  int64_t epochs = 0;            // 0 with steps 0: the embedded default length
  int64_t sample_every = 100;
  int64_t checkpoint_every = 500;
  int64_t log_every = 10;
  int keep_checkpoints = 0;      // 0: keep every checkpoint
  std::string dashboard = "on";  // on: dashboard.png (tools/dgplot.py) at the end of the run
  std::string resume;            // a run folder to continue
  // Evaluation during training (tools/run/train_eval.h); eval_every 0 turns it off.
  int64_t eval_every = 0;
  int64_t eval_samples = 10000;  // generated (and real) samples per FID
  std::string eval_features;     // feature network file: a dg classifier or FID Inception
  double target_fid = 0;         // 0: none; else the step and time it is first reached are recorded
  int early_stop = 0;            // 0: never; else stop after this many evaluations without a better FID
  // Flag spellings of TrainConfig's enums; resolve_flags() converts them after parsing.
  std::string g_loss = "max", g_act = "relu", lr_decay = "none";
};

// Copies the spelled-out flags (g_loss, g_act, lr_decay, betas) into o.train.
void resolve_flags(TrainOptions& o);
// Checks what single flags cannot (flags that need each other); dg::Error naming them.
void check_flag_combinations(const TrainOptions& o);

// The embedded default: 600 steps, about 8 minutes of training on 2 CPU cores (README).
constexpr int64_t kDefaultSteps = 600;

// The settings a resume cannot change (every key but those of the flags a resume accepts,
// resume_flags.h, and total_steps) that
// both configs record and that differ, as "key (first value vs second)", comma-separated;
// "" when none. A checkpoint whose recorded config differs belongs to another run.
std::string differing_run_settings(const nlohmann::json& a, const nlohmann::json& b);

nlohmann::json to_json(const TrainOptions& o);
// Throws dg::Error naming a bad field. Keys it does not read are ignored: config.json files
// of older runs also hold bn_eps (1e-5) and bn_momentum (0.1), constants that were written
// but never read (BatchNorm's are kernels/batchnorm/batchnorm.h's defaults), and such runs still resume.
TrainOptions options_from_json(const nlohmann::json& j);

GLoss parse_gloss(const std::string& s);
Act parse_g_act(const std::string& s);

}  // namespace dg
