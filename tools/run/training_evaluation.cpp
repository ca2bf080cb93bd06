// evaluate_step (tools/run/training_run.h): FID and IS on rank 0 (tools/run/train_eval.h),
// their metrics line, scalars and message; then every rank learns rank 0's verdicts: a new
// best (kept as checkpoints/best.safetensors) and --early-stop.
#include <sstream>

#include "tools/run/training_run.h"

namespace dg {

namespace {

struct EvalVerdicts {
  bool improved = false, early_stop = false;
};

void log_evaluation(TrainingRun& r, const EvalOutcome& e, double at) {
  const int64_t step = r.trainer->step();
  const EvalState& st = r.evaluator->state();
  nlohmann::json line = {{"step", step},           {"wall_s", at},         {"fid", e.fid},
                         {"is", e.is},             {"is_std", e.is_std},   {"eval_s", e.seconds},
                         {"best_fid", st.best_fid}, {"best_step", st.best_step},
                         {"eval_samples", r.o.eval_samples}, {"features", r.evaluator->network()}};
  if (e.target_reached) line["target_fid_reached"] = {{"target", r.o.target_fid}, {"step", step}, {"wall_s", at}};
  r.folder->append_metrics(line);
  r.events->scalars(step, {{"eval/fid", e.fid}, {"eval/is", e.is}, {"eval/is_std", e.is_std},
                           {"eval/best_fid", st.best_fid}, {"eval/seconds", e.seconds}});
  std::ostringstream msg;
  msg.precision(4);
  msg << "dgtrain: step " << step << ": FID " << e.fid << ", IS " << e.is << (e.improved ? " (best)" : "") << " ["
      << e.seconds << " s]";
  if (e.target_reached) msg << "; --target-fid " << r.o.target_fid << " reached after " << at << " s of training";
  r.progress.message(msg.str());
  if (e.stop)
    r.progress.message("dgtrain: no better FID in " + std::to_string(r.o.early_stop) +
                       " evaluations: stopping early; the best (FID " + std::to_string(st.best_fid) + " at step " +
                       std::to_string(st.best_step) + ") is " + r.folder->best_checkpoint_path());
}

EvalVerdicts evaluate_on_root(TrainingRun& r) {
  const double at = r.wall_s();
  const EvalOutcome e = r.evaluator->evaluate(*r.trainer, at);
  r.eval_s_total += e.seconds;
  log_evaluation(r, e, at);
  return {e.improved, e.stop};
}

}  // namespace

std::optional<int> evaluate_step(TrainingRun& r, bool* early_stop) {
  if (const std::string why = unsafe_to_save(r); !why.empty()) return nonfinite_stop(r, why);
  const EvalVerdicts v = r.evaluator ? evaluate_on_root(r) : EvalVerdicts{};
  // Every rank learns rank 0's verdicts (checkpoint() is collective).
  const bool improved = !r.dist.all_ok(!v.improved);
  *early_stop = !r.dist.all_ok(!v.early_stop);
  if (improved && !checkpoint(r, /*best=*/true)) return kExitCheckpointFailed;
  return std::nullopt;
}

}  // namespace dg
