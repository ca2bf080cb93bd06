// dgtrain's run (DESIGN §9). tools/dgtrain.cpp parses flags and calls run_training, which
// runs the phases below over one TrainingRun, the state they share:
//   setup_or_resume   options (a resume's from its run folder), device, data, run folder,
//                     trainer (fresh, or from the newest intact checkpoint), TensorBoard
//                     events, sample noise, evaluator                   training_setup.cpp
//   train_loop        steps until the end, a signal, or a stop; then the signal's checkpoint
//                     or the end's dashboard                            training_loop.cpp
//   log_step          a metrics line, TensorBoard scalars, the progress line  training_log.cpp
//   evaluate_step     FID/IS, the best checkpoint, --target-fid, --early-stop
//                                                                       training_evaluation.cpp
//   checkpoint, write_samples, and the non-finite stop                  training_checkpoints.cpp
// Steps are counted from 1 in messages and file names (step N = after N updates); the
// trainer records 0-based step indices.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "data/loader.h"
#include "engine/batch_upload.h"
#include "models/checkpoint.h"
#include "models/gan_trainer.h"
#include "tools/run/distributed.h"
#include "tools/run/progress.h"
#include "tools/run/run_folder.h"
#include "tools/run/tb_events.h"
#include "tools/run/train_eval.h"
#include "tools/run/train_options.h"

namespace dg {

// Exit codes of a run (a signal's: exit_code_for_signal, tools/run/stop_signal.h).
constexpr int kExitOk = 0, kExitError = 1, kExitNonFinite = 3, kExitCheckpointFailed = 4;

// A seam for tests: production leaves it empty. dgtrain_faults (tests/dgtrain_fault_hook.cpp)
// poisons a weight through it.
struct RunHooks {
  // Called after each training step, before what is due after it (logging, checkpoints).
  std::function<void(Context&, GanTrainer&)> after_train_step;
};

// `given`: the flags the user gave (checked against --resume). `dist`: this process's place
// among the ranks (tools/run/distributed.h); rank 0 writes the run folder. Returns the exit code.
int run_training(TrainOptions o, const std::set<std::string>& given, Distributed& dist, const RunHooks& hooks = {});

using Clock = std::chrono::steady_clock;

struct TrainingRun {
  TrainingRun(TrainOptions options, Distributed& dist, RunHooks hooks);
  TrainingRun(const TrainingRun&) = delete;  // the evaluator and the loader point into it
  TrainingRun& operator=(const TrainingRun&) = delete;

  TrainOptions o;            // resolved: a resume's come from its config.json
  Distributed& dist;
  const RunHooks hooks;
  const bool root;           // rank 0 alone writes the run folder and talks
  const bool resuming;
  Progress progress;

  // Members in the order they are made (and destroyed in reverse: nothing outlives ctx).
  std::unique_ptr<Context> ctx;
  Communicator* comm = nullptr;             // the trainer's (dist owns it)
  data::ImageSet set;
  std::unique_ptr<data::Loader> loader;
  int64_t total = 0;                        // steps of the whole run
  std::string folder_path;
  std::unique_ptr<RunFolder> folder;        // rank 0 only
  nlohmann::json config;                    // what config.json and every checkpoint record
  std::unique_ptr<GanTrainer> trainer;
  std::unique_ptr<EventFile> events;        // rank 0 only
  std::unique_ptr<BatchUpload> batches;     // the batch (B, C, S, S), uploaded without a host wait
  Tensor fixed_z;                           // the sample grid's noise (kSamples, nz, 1, 1)
  std::vector<float> sample_host;           // the sample grid on the host (kSamples, C, S, S)
  std::unique_ptr<TrainEvaluator> evaluator;  // rank 0 with --eval-every

  // Run time, carried over a resume (rank 0): wall_s() counts training (evaluations
  // excluded), eval_s_total the evaluations, both since the run began.
  double wall_before = 0, eval_s_total = 0;
  Clock::time_point start;
  Clock::time_point last_log_time;
  int64_t last_log_step = 0;
  Metadata resumed_meta;        // the metadata of the checkpoint a resume started from
  std::string resumed_from;     // that checkpoint (rank 0)
  std::string last_checkpoint;  // named when the run stops
  bool graph_failure_reported = false;  // --cuda-graph: said once that capturing failed
  bool conditional_failure_reported = false;  // ... and once that it failed with conditional nodes

  static constexpr int kSamples = 64;  // images in a sample grid

  double wall_s() const;
  Metadata run_metadata() const;  // what each checkpoint carries for the next resume
};

// training_setup.cpp: the launch's options with a resume's saved ones under them (checked).
TrainOptions options_for_launch(TrainOptions o, const std::set<std::string>& given, Distributed& dist);
void setup_or_resume(TrainingRun& r);

// training_loop.cpp
int train_loop(TrainingRun& r);

// Each of these returns an exit code when the run must stop, else nothing.
std::optional<int> log_step(TrainingRun& r);                         // training_log.cpp
std::optional<int> evaluate_step(TrainingRun& r, bool* early_stop);  // training_evaluation.cpp

// training_checkpoints.cpp. A checkpoint that cannot be written (disk full, folder gone)
// stops the run: checkpoint() is false on every rank, and the last good one is named.
bool checkpoint(TrainingRun& r, bool best = false);  // collective; best: checkpoints/best.safetensors
std::optional<int> checkpoint_or_stop(TrainingRun& r);  // refused (the non-finite stop) when unsafe
std::string loss_went_bad(TrainingRun& r);   // why the logged losses stop the run ("" if they don't)
std::string unsafe_to_save(TrainingRun& r);  // ... or the weights, statistics or moments
int nonfinite_stop(TrainingRun& r, const std::string& why);  // says why; kExitNonFinite
void write_samples(TrainingRun& r);  // rank 0

}  // namespace dg
