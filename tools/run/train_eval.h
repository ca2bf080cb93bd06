// Evaluation during training (dgtrain --eval-every, --target-fid, --early-stop; DESIGN §7).
//
// Every `eval_every` steps: FID and IS of `eval_samples` generated images (tools/run/evaluate.h)
// against the first `eval_samples` images of the training set, whose statistics are cached
// in the run folder. The state that must survive a resume (best FID and its step, evaluations
// since the best, when the target was reached) travels in each checkpoint's metadata.
#pragma once
#include <cmath>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "data/image_set.h"
#include "engine/metrics/fid.h"
#include "models/feature_net.h"
#include "models/gan_trainer.h"
#include "tools/run/train_options.h"

namespace dg {

struct EvalState {
  double best_fid = INFINITY;
  int64_t best_step = -1;
  int evals_since_best = 0;
  int64_t target_step = -1;    // first step with FID <= target, -1 while not reached
  double target_wall_s = 0;    // wall_s (run time, evaluations excluded) at target_step
};
nlohmann::json to_json(const EvalState& s);
EvalState eval_state_from_json(const nlohmann::json& j);  // dg::Error naming a bad field

struct EvalOutcome {
  double fid = 0;
  double is = 0, is_std = 0;
  double seconds = 0;        // this evaluation's own time
  bool improved = false;     // a new best FID: the caller keeps this step as the best checkpoint
  bool target_reached = false;  // reached at this evaluation for the first time
  bool stop = false;         // --early-stop patience exhausted
};

class TrainEvaluator {
 public:
  // Loads the feature network and the real statistics (cached in run_folder); `note` receives
  // what happened, for the user.
  TrainEvaluator(Context& ctx, const TrainOptions& o, const data::ImageSet& real, const std::string& run_folder,
                 std::string* note);
  const std::string& network() const { return net_->name(); }
  EvalOutcome evaluate(GanTrainer& trainer, double wall_s);
  EvalState& state() { return state_; }

 private:
  Context& ctx_;
  const TrainOptions& o_;
  std::unique_ptr<FeatureNet> net_;
  FeatureStats real_;
  EvalState state_;
};

}  // namespace dg
