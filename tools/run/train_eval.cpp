#include "tools/run/train_eval.h"

#include <chrono>

#include "engine/error.h"
#include "tools/run/evaluate.h"

namespace dg {

nlohmann::json to_json(const EvalState& s) {
  return {{"best_fid", std::isfinite(s.best_fid) ? nlohmann::json(s.best_fid) : nlohmann::json(nullptr)},
          {"best_step", s.best_step},
          {"evals_since_best", s.evals_since_best},
          {"target_step", s.target_step},
          {"target_wall_s", s.target_wall_s}};
}

EvalState eval_state_from_json(const nlohmann::json& j) {
  EvalState s;
  try {
    s.best_fid = j.at("best_fid").is_null() ? INFINITY : j.at("best_fid").get<double>();
    s.best_step = j.at("best_step").get<int64_t>();
    s.evals_since_best = j.at("evals_since_best").get<int>();
    s.target_step = j.at("target_step").get<int64_t>();
    s.target_wall_s = j.at("target_wall_s").get<double>();
  } catch (const nlohmann::json::exception& e) {
    DG_FAIL("checkpoint eval_state: ", e.what());
  }
  return s;
}

TrainEvaluator::TrainEvaluator(Context& ctx, const TrainOptions& o, const data::ImageSet& real,
                               const std::string& run_folder, std::string* note)
    : ctx_(ctx), o_(o), net_(load_feature_net(ctx, o.eval_features)) {
  const ModelConfig& m = o.train.model;
  const std::string cache = real_stats_cache_path(run_folder, *net_, real, m.image_size, m.channels, o.eval_samples);
  real_ = real_stats(ctx, *net_, real, m.image_size, m.channels, o.eval_samples, cache, note);
}

EvalOutcome TrainEvaluator::evaluate(GanTrainer& trainer, double wall_s) {
  const auto start = std::chrono::steady_clock::now();
  const ModelConfig& m = o_.train.model;
  const FeatureSet f = extract(ctx_, *net_, generator_source(trainer), m.channels, m.image_size, o_.eval_samples,
                               Wanted{true, false, true});
  EvalOutcome out;
  out.fid = frechet_distance(real_, f.stats);
  const ScoreWithSpread is = inception_score_of(f);
  out.is = is.mean;
  out.is_std = is.std;
  const int64_t step = trainer.step();
  if (out.fid < state_.best_fid) {
    state_.best_fid = out.fid;
    state_.best_step = step;
    state_.evals_since_best = 0;
    out.improved = true;
  } else {
    state_.evals_since_best++;
  }
  if (o_.target_fid > 0 && state_.target_step < 0 && out.fid <= o_.target_fid) {
    state_.target_step = step;
    state_.target_wall_s = wall_s;
    out.target_reached = true;
  }
  out.stop = o_.early_stop > 0 && state_.evals_since_best >= o_.early_stop;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace dg
