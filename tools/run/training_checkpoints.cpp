// What a run keeps (tools/run/training_run.h): checkpoints with the run time and evaluation
// state a resume needs, the sample grids, and the refusal to keep a state that is not
// finite (the non-finite stop).
#include <cstdio>

#include "tools/run/training_run.h"

namespace dg {

double TrainingRun::wall_s() const {  // training time of the whole run, evaluations excluded
  return wall_before + std::chrono::duration<double>(Clock::now() - start).count() - eval_s_total;
}

Metadata TrainingRun::run_metadata() const {
  Metadata meta{{"wall_s", std::to_string(wall_s())}, {"eval_s", std::to_string(eval_s_total)}};
  if (evaluator) meta["eval_state"] = to_json(evaluator->state()).dump();
  return meta;
}

// Rank 0. The previous checkpoint is untouched by a failed write (writes go to a temporary
// file renamed into place) and is named.
static bool write_checkpoint(TrainingRun& r, bool best) {
  const std::string p = best ? r.folder->best_checkpoint_path() : r.folder->checkpoint_path(r.trainer->step());
  try {
    save_checkpoint(*r.ctx, *r.trainer, p, r.config.dump(), r.run_metadata());
  } catch (const Error& e) {
    r.progress.finish();
    std::fprintf(stderr, "\ndgtrain: the checkpoint of step %lld could not be written: %s\n"
                         "dgtrain: stopping; the last good checkpoint is %s. Make room, then: dgtrain --resume %s\n",
                 static_cast<long long>(r.trainer->step()), e.what(),
                 r.last_checkpoint.empty() ? "(none yet)" : r.last_checkpoint.c_str(), r.folder_path.c_str());
    return false;
  }
  if (best) return true;
  r.last_checkpoint = p;
  r.folder->prune_checkpoints(r.o.keep_checkpoints, r.resumed_from);
  return true;
}

// Rank 0 writes; every rank learns whether it could (and stops with it when not).
bool checkpoint(TrainingRun& r, bool best) { return r.dist.all_ok(!r.root || write_checkpoint(r, best)); }

std::optional<int> checkpoint_or_stop(TrainingRun& r) {
  if (const std::string why = unsafe_to_save(r); !why.empty()) return nonfinite_stop(r, why);
  if (!checkpoint(r)) return kExitCheckpointFailed;
  return std::nullopt;
}

std::string loss_went_bad(TrainingRun& r) {
  const int64_t bad = r.trainer->first_nonfinite_step();
  return bad < 0 ? "" : "a loss became NaN or Inf at step " + std::to_string(bad + 1);
}

std::string unsafe_to_save(TrainingRun& r) {
  std::string why = loss_went_bad(r);
  if (why.empty() && !r.trainer->state_finite())
    why = "the weights, running statistics or Adam moments became NaN or Inf by step " +
          std::to_string(r.trainer->step());
  return why;
}

int nonfinite_stop(TrainingRun& r, const std::string& why) {
  r.progress.finish();
  if (r.root)
    std::fprintf(stderr, "\ndgtrain: %s; stopping. The last good checkpoint is %s\n", why.c_str(),
                 r.last_checkpoint.empty() ? "(none yet)" : r.last_checkpoint.c_str());
  return kExitNonFinite;
}

void write_samples(TrainingRun& r) {
  ScratchScope s(*r.ctx);
  const int C = r.o.train.model.channels, S = r.o.train.model.image_size;
  r.ctx->download(r.trainer->generate_eval(r.fixed_z), r.sample_host.data());
  const RunFolder::Grid g =
      r.folder->write_sample_grid(r.trainer->step(), r.sample_host.data(), TrainingRun::kSamples, C, S);
  r.events->image(r.trainer->step(), "samples", g.png, g.width, g.height, g.channels);
}

}  // namespace dg
