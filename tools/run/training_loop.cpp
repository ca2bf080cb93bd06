// train_loop (tools/run/training_run.h): the steps, what is due after each, and the two
// ordinary ends of a run: a signal (a checkpoint, then the command that continues it) and
// the last step (the dashboard and the summary).
#include <cstdio>

#include "tools/run/dashboard.h"
#include "tools/run/stop_signal.h"
#include "tools/run/training_run.h"

namespace dg {

namespace {

bool due(int64_t step, int64_t every) { return every > 0 && step % every == 0; }

// What follows step `r.trainer->step()`: its metrics line, an evaluation, samples and a
// checkpoint, each when due (the last step has all of them). Sets early_stop when the
// evaluation says the run ends here.
std::optional<int> after_step(TrainingRun& r, bool* early_stop) {
  const int64_t step = r.trainer->step();
  const bool last = step == r.total;
  if (due(step, r.o.log_every) || last)
    if (std::optional<int> code = log_step(r)) return code;
  if (due(step, r.o.eval_every) || (r.o.eval_every > 0 && last))
    if (std::optional<int> code = evaluate_step(r, early_stop)) return code;
  if (r.root && (due(step, r.o.sample_every) || last || *early_stop)) write_samples(r);
  if (due(step, r.o.checkpoint_every) || last || *early_stop)
    if (std::optional<int> code = checkpoint_or_stop(r)) return code;
  return std::nullopt;
}

// Once each, when capturing the step as a CUDA graph failed (the run goes on without one), and
// when a capture with conditional nodes failed (the graph is made without them).
void report_graph_failure(TrainingRun& r) {
  const StepGraph* g = r.trainer->cuda_graph();
  if (!g) return;
  if (!g->conditional_failure().empty() && !r.conditional_failure_reported) {
    r.conditional_failure_reported = true;
    r.progress.message("dgtrain: --cuda-graph: capturing the step with conditional nodes failed; capturing it "
                       "without them (every D's backward runs in the G step): " + g->conditional_failure());
  }
  if (g->failure().empty() || r.graph_failure_reported) return;
  r.graph_failure_reported = true;
  r.progress.message("dgtrain: --cuda-graph: capturing the step failed, going on without a graph: " + g->failure());
}

int stop_on_signal(TrainingRun& r, int sig) {
  if (std::optional<int> code = checkpoint_or_stop(r)) return *code;
  if (r.root)
    std::printf("dgtrain: stopped by signal %d after step %lld; checkpoint %s; continue with: dgtrain --resume %s\n",
                sig, static_cast<long long>(r.trainer->step()), r.last_checkpoint.c_str(), r.folder_path.c_str());
  return exit_code_for_signal(sig);
}

int finish(TrainingRun& r) {
  const bool dashboard = r.o.dashboard == "on";
  if (r.root && dashboard)
    if (const std::string why = draw_dashboard(r.folder_path); !why.empty())
      r.progress.message("dgtrain: no dashboard.png: " + why);
  if (const StepGraph* g = r.trainer->cuda_graph(); r.root && g)
    std::printf("dgtrain: CUDA graph: %lld steps replayed, %lld run as they are, %lld captures\n",
                static_cast<long long>(g->launches()), static_cast<long long>(g->eager()),
                static_cast<long long>(g->captures()));
  if (r.root)
    std::printf("dgtrain: done, %lld steps. Run folder: %s (samples/, checkpoints/, metrics.jsonl, TensorBoard "
                "events%s)\n",
                static_cast<long long>(r.trainer->step()), r.folder_path.c_str(), dashboard ? ", dashboard.png" : "");
  return kExitOk;
}

}  // namespace

int train_loop(TrainingRun& r) {
  install_stop_signal_handlers();
  r.start = r.last_log_time = Clock::now();
  r.last_log_step = r.trainer->step();
  r.progress.set_total(r.total);
  // A signal reaches the ranks at different steps: they stop together at the first step any saw it.
  int sig = 0;
  while (r.trainer->step() < r.total && (sig = int(r.comm->max_over_ranks(stop_signal_received()))) == 0) {
    r.trainer->train_step(r.batches->next(r.loader->next()));
    report_graph_failure(r);
    if (r.hooks.after_train_step) r.hooks.after_train_step(*r.ctx, *r.trainer);
    bool early_stop = false;
    if (std::optional<int> code = after_step(r, &early_stop)) return *code;
    if (early_stop) break;
  }
  r.progress.finish();
  return sig != 0 ? stop_on_signal(r, sig) : finish(r);
}

int run_training(TrainOptions o, const std::set<std::string>& given, Distributed& dist, const RunHooks& hooks) {
  TrainingRun r(options_for_launch(std::move(o), given, dist), dist, hooks);
  setup_or_resume(r);
  return train_loop(r);
}

}  // namespace dg
