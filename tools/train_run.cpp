#include "tools/train_run.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "data/load_dataset.h"
#include "data/loader.h"
#include "models/checkpoint.h"
#include "tools/dashboard.h"
#include "tools/distributed.h"
#include "tools/json_number.h"
#include "tools/progress.h"
#include "tools/resume.h"
#include "tools/run_folder.h"
#include "tools/tb_events.h"
#include "tools/train_eval.h"
#include "kernels/random/random.h"

namespace fs = std::filesystem;

namespace dg {

int exit_code_for_signal(int sig) { return 128 + sig; }

// The one piece of process-wide state: a signal handler can reach nothing else.
static volatile std::sig_atomic_t g_stop_signal = 0;
static void on_signal(int sig) { g_stop_signal = sig; }

static Device choose_device(const std::string& want, Progress& progress) {
  if (want == "cpu") return Device::cpu;
  if (want == "cuda") {
    DG_CHECK(cuda_built(), "--device cuda: this dg was built without the CUDA backend (no nvcc at configure time)");
    DG_CHECK(cuda_available(), "--device cuda: no CUDA device is visible");
    return Device::cuda;
  }
  try {
    if (cuda_available()) return Device::cuda;
  } catch (const Error& e) {  // a broken CUDA runtime: say so, then train where we can
    progress.message(std::string("dgtrain: ") + e.what() + ": training on the CPU");
    return Device::cpu;
  }
  progress.message(cuda_built() ? "dgtrain: no CUDA device visible: training on the CPU"
                                : "dgtrain: built without CUDA: training on the CPU");
  return Device::cpu;
}

static std::string default_run_name(const TrainOptions& o) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  const TrainConfig& t = o.train;
  std::ostringstream s;
  s << t.model.arch << (t.model.arch == "dcgan" ? std::to_string(t.model.image_size) : "") << "-k"
    << t.discriminators << "-" << gloss_name(t.g_loss.mode) << "-" << stamp;
  return s.str();
}

static std::string loss_summary(const StepStats& s) {
  std::ostringstream o;
  o.precision(3);
  o << "G " << s.g_loss;
  for (size_t i = 0; i < s.d_real.size(); i++) o << "  D" << i << " " << s.d_real[i] + s.d_fake[i];
  return o.str();
}

// A metrics line's scalars for TensorBoard: losses, each D's share of the selections since
// the last line, speed and the learning rates of the last step.
static std::vector<std::pair<std::string, double>> train_scalars(const StepStats& s, double img_s, float lr_g,
                                                                 float lr_d) {
  std::vector<std::pair<std::string, double>> v = {{"loss/G", s.g_loss}};
  double selections = 0;
  for (float n : s.selected) selections += n;
  for (size_t i = 0; i < s.d_real.size(); i++) {
    const std::string d = "D" + std::to_string(i);
    v.push_back({"loss/" + d + "_real", s.d_real[i]});
    v.push_back({"loss/" + d + "_fake", s.d_fake[i]});
    v.push_back({"selection/" + d, selections > 0 ? s.selected[i] / selections : 0.0});
  }
  v.push_back({"perf/img_per_s", img_s});
  v.push_back({"lr/G", lr_g});
  v.push_back({"lr/D", lr_d});
  return v;
}

// How the gradients are averaged (the start-up line of a multi-rank run).
static std::string bucket_summary(int64_t bytes) {
  if (bytes == 0) return "; gradients averaged after each backward";
  std::ostringstream o;
  o << "; gradients averaged in " << double(bytes) / (1024.0 * 1024.0) << " MiB buckets during the backward";
  return o.str();
}

int run_training(TrainOptions o, const std::set<std::string>& given, Distributed& dist) {
  const bool root = dist.is_root();  // rank 0 alone writes the run folder and talks
  Progress progress(0, ::isatty(STDOUT_FILENO) != 0, !root);

  // Resume: the run folder's config wins; only a few flags may be given again.
  const bool resuming = !o.resume.empty();
  if (resuming) {
    for (const std::string& f : given)
      DG_CHECK(allowed_with_resume(f), f, " cannot be combined with --resume: the run's settings come from ",
               o.resume, "/config.json (allowed: --steps --epochs --device --log-every --sample-every "
               "--checkpoint-every --keep-checkpoints --data --dashboard)");
    const nlohmann::json saved_config = dist.share_json(root ? RunFolder(o.resume, true).read_config() : nlohmann::json{});
    TrainOptions saved = options_from_json(saved_config);
    check_distributed_settings(saved_config, dist, saved.train);
    for (const char* f : {"--steps", "--epochs"})
      if (given.count(f)) saved.train.total_steps = 0;  // recomputed below
    if (given.count("--steps")) saved.steps = o.steps;
    if (given.count("--epochs")) saved.epochs = o.epochs;
    if (given.count("--device")) saved.device = o.device;
    if (given.count("--log-every")) saved.log_every = o.log_every;
    if (given.count("--sample-every")) saved.sample_every = o.sample_every;
    if (given.count("--checkpoint-every")) saved.checkpoint_every = o.checkpoint_every;
    if (given.count("--keep-checkpoints")) saved.keep_checkpoints = o.keep_checkpoints;
    if (given.count("--data")) saved.data = o.data;
    if (given.count("--dashboard")) saved.dashboard = o.dashboard;
    saved.resume = o.resume;
    o = saved;
  }
  check_flag_combinations(o);

  // Device and context first: a wrong --device should not wait for the data to load.
  ContextOptions copt;
  copt.device = choose_device(o.device, progress);
  copt.deterministic = o.deterministic;
  if (copt.device == Device::cuda) copt.cuda_device = dist.cuda_device();
  Context ctx(copt);
  Communicator& comm = dist.connect(ctx);

  // Data.
  const data::ImageSet set = data::load_dataset(o.data, data::parse_format(o.data_format), o.train.model.image_size);
  if (o.train.model.channels == 0) o.train.model.channels = set.channels;
  DG_CHECK(set.count >= o.train.batch_size, o.data, " holds ", set.count, " images, fewer than --batch-size ",
           o.train.batch_size);

  data::LoaderConfig lcfg{o.train.batch_size, o.train.model.image_size, o.train.model.channels, o.train.seed,
                          dist.rank(), dist.world_size()};
  data::Loader loader(set, lcfg, [&ctx](size_t bytes) { return ctx.alloc_host_staging(bytes); },
                      [&ctx](float* p) { ctx.free_host_staging(p); });
  if (o.train.total_steps == 0)
    o.train.total_steps = o.steps > 0 ? o.steps : o.epochs > 0 ? o.epochs * loader.batches_per_epoch() : kDefaultSteps;
  const int64_t total = o.train.total_steps;

  // Run folder.
  if (o.run_name.empty()) o.run_name = default_run_name(o);
  const std::string folder_path = resuming ? o.resume : (fs::path(o.out) / o.run_name).string();
  std::unique_ptr<RunFolder> folder_on_root = root ? std::make_unique<RunFolder>(folder_path, resuming) : nullptr;
  RunFolder* folder = folder_on_root.get();  // null on the other ranks
  nlohmann::json config = to_json(o);
  record_distributed_settings(config, o.train, dist);
  if (root) folder->write_config(config);

  GanTrainer trainer(ctx, o.train, &comm);
  // Run time carried over a resume (rank 0): wall_s counts training (evaluations excluded),
  // eval_s the evaluations, both since the run began.
  double wall_before = 0, eval_s_total = 0;
  Metadata resumed_meta;
  std::string resumed_from;  // the checkpoint a resume started from (rank 0)
  if (resuming && root) {
    const ResumePoint from = resume_from_newest_intact(ctx, trainer, *folder, config);
    resumed_from = from.path;
    resumed_meta = from.info.metadata;
    if (const std::string note = unverified_note(from.info, from.path); !note.empty())
      std::fprintf(stderr, "dgtrain: note: %s\n", note.c_str());
    if (resumed_meta.count("wall_s")) wall_before = std::atof(resumed_meta["wall_s"].c_str());
    if (resumed_meta.count("eval_s")) eval_s_total = std::atof(resumed_meta["eval_s"].c_str());
    progress.message("dgtrain: resuming " + folder_path + " from step " + std::to_string(trainer.step()));
    if (const std::string tidied = folder->tidy_for_resume(trainer.step()); !tidied.empty())
      progress.message("dgtrain: " + tidied);
    if (const std::string tidied = tidy_events_for_resume(folder_path, trainer.step()); !tidied.empty())
      progress.message("dgtrain: " + tidied);
  } else if (!resuming) {
    trainer.init_weights();
  }
  trainer.broadcast_state();  // every rank starts from rank 0's weights, moments and step
  // TensorBoard events (rank 0): a new file for this launch; a resume's START drops, in a
  // TensorBoard already watching, the steps that are about to be trained again.
  std::unique_ptr<EventFile> events =
      root ? std::make_unique<EventFile>(folder_path, resuming ? trainer.step() + 1 : 0) : nullptr;
  if (events) {
    std::string md = "    " + config.dump(2);  // an indented block: shown as code
    for (size_t at = md.find('\n'); at != std::string::npos; at = md.find('\n', at + 1)) md.insert(at + 1, "    ");
    events->text(trainer.step(), "config", md);
  }
  loader.seek(trainer.step());
  // Test-only fault hook (tests/test_dgtrain.cpp): poison a gradient at this step.
  if (const char* nan_step = std::getenv("DG_TEST_NAN_STEP")) trainer.inject_nan_gradient_at(std::atoll(nan_step));

  const ModelConfig& m = o.train.model;
  progress.message("dgtrain: " + m.arch + " " + std::to_string(m.image_size) + "x" + std::to_string(m.image_size) +
                   "x" + std::to_string(m.channels) + ", K=" + std::to_string(o.train.discriminators) + " (" +
                   gloss_name(o.train.g_loss.mode) + "), batch " + std::to_string(o.train.batch_size) + ", " +
                   std::to_string(total) + " steps on " + device_name(ctx.device()) + ", " + std::to_string(set.count) +
                   " images from " + set.source + "; run folder " + folder_path);
  if (dist.world_size() > 1)
    progress.message("dgtrain: " + dist.describe() + "; batch " + std::to_string(o.train.batch_size) +
                     " per rank, " + std::to_string(o.train.batch_size * dist.world_size()) + " in all" +
                     (o.train.sync_bn ? "; BatchNorm statistics synchronized" : "; BatchNorm statistics per rank") +
                     bucket_summary(o.train.grad_bucket_bytes));

  // Persistent tensors: the real batch and the fixed sample noise.
  const int B = o.train.batch_size, S = m.image_size, C = m.channels, n_samples = 64;
  Tensor real = ctx.alloc({B, C, S, S});
  Tensor fixed_z = ctx.alloc({n_samples, m.nz, 1, 1});
  fill_normal(ctx, fixed_z, 0.0f, 1.0f, o.train.seed, rng_stream::sample_noise);
  std::vector<float> sample_host(size_t(n_samples) * C * S * S);
  auto write_samples = [&] {
    ScratchScope s(ctx);
    ctx.download(trainer.generate_eval(fixed_z), sample_host.data());
    const RunFolder::Grid g = folder->write_sample_grid(trainer.step(), sample_host.data(), n_samples, C, S);
    events->image(trainer.step(), "samples", g.png, g.width, g.height, g.channels);
  };
  // Evaluation (--eval-every), on rank 0: the feature network and the real statistics,
  // before the clock starts.
  std::unique_ptr<TrainEvaluator> evaluator;
  if (o.eval_every > 0 && root) {
    std::string note;
    evaluator = std::make_unique<TrainEvaluator>(ctx, o, set, folder_path, &note);
    progress.message("dgtrain: FID every " + std::to_string(o.eval_every) + " steps on " +
                     std::to_string(o.eval_samples) + " samples, features " + evaluator->network() + "; " + note);
    if (resumed_meta.count("eval_state"))
      evaluator->state() = eval_state_from_json(nlohmann::json::parse(resumed_meta["eval_state"]));
  }

  std::string last_checkpoint = resumed_from;
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  auto wall_s = [&] {  // training time of the whole run, evaluations excluded
    return wall_before + std::chrono::duration<double>(clock::now() - start).count() - eval_s_total;
  };
  auto run_metadata = [&] {
    Metadata meta{{"wall_s", std::to_string(wall_s())}, {"eval_s", std::to_string(eval_s_total)}};
    if (evaluator) meta["eval_state"] = to_json(evaluator->state()).dump();
    return meta;
  };
  // A checkpoint that cannot be written (disk full, folder gone) stops the run: the previous
  // one is untouched (writes go to a temporary file renamed into place) and named.
  // Rank 0 writes; every rank learns whether it could (and stops with it when not).
  // best: checkpoints/best.safetensors (the best FID so far) instead of this step's file.
  auto write_checkpoint = [&](bool best) -> bool {
    const std::string p = best ? folder->best_checkpoint_path() : folder->checkpoint_path(trainer.step());
    try {
      save_checkpoint(ctx, trainer, p, config.dump(), run_metadata());
    } catch (const Error& e) {
      progress.finish();
      std::fprintf(stderr, "\ndgtrain: the checkpoint of step %lld could not be written: %s\n"
                           "dgtrain: stopping; the last good checkpoint is %s. Make room, then: dgtrain --resume %s\n",
                   static_cast<long long>(trainer.step()), e.what(),
                   last_checkpoint.empty() ? "(none yet)" : last_checkpoint.c_str(), folder_path.c_str());
      return false;
    }
    if (best) return true;
    last_checkpoint = p;
    folder->prune_checkpoints(o.keep_checkpoints, resumed_from);
    return true;
  };
  auto checkpoint = [&](bool best = false) -> bool { return dist.all_ok(!root || write_checkpoint(best)); };
  // Steps are counted from 1 in messages and file names (step N = after N updates); the
  // trainer records 0-based step indices.
  auto nonfinite_stop = [&](const std::string& what) {
    progress.finish();
    if (root)
      std::fprintf(stderr, "\ndgtrain: %s; stopping. The last good checkpoint is %s\n", what.c_str(),
                   last_checkpoint.empty() ? "(none yet)" : last_checkpoint.c_str());
    return kExitNonFinite;
  };
  auto loss_went_bad = [&]() -> std::string {
    const int64_t bad = trainer.first_nonfinite_step();
    return bad < 0 ? "" : "a loss became NaN or Inf at step " + std::to_string(bad + 1);
  };
  auto unsafe_to_save = [&]() -> std::string {
    std::string why = loss_went_bad();
    if (why.empty() && !trainer.state_finite())
      why = "the weights, running statistics or Adam moments became NaN or Inf by step " + std::to_string(trainer.step());
    return why;
  };

  g_stop_signal = 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  start = clock::now();
  auto last_log_time = start;
  int64_t last_log_step = trainer.step();
  progress.set_total(total);
  // A signal reaches the ranks at different steps: they stop together at the first step any saw it.
  int stop_signal = 0;
  while (trainer.step() < total && (stop_signal = int(comm.max_over_ranks(g_stop_signal))) == 0) {
    ctx.upload(real, loader.next());
    trainer.train_step(real);
    const int64_t step = trainer.step();
    const bool last = step == total;
    if (step % o.log_every == 0 || last) {
      const StepStats s = trainer.stats();  // synchronizes: only here
      if (const std::string why = loss_went_bad(); !why.empty()) return nonfinite_stop(why);
      const auto now = clock::now();
      const double dt = std::chrono::duration<double>(now - last_log_time).count();
      const double global_batch = double(B) * dist.world_size();
      const double img_s = dt > 0 ? double(step - last_log_step) * global_batch / dt : 0.0;
      const double eta = img_s > 0 ? double(total - step) * global_batch / img_s : NAN;
      nlohmann::json line = {{"step", step},
                             {"epoch", double(step) / double(loader.batches_per_epoch())},
                             {"wall_s", wall_s()},
                             {"img_per_s", img_s},
                             {"g_loss", shortest_decimal(s.g_loss)},
                             {"d_real", shortest_decimals(s.d_real)},
                             {"d_fake", shortest_decimals(s.d_fake)},
                             {"selected", shortest_decimals(s.selected)}};
      if (root) {
        folder->append_metrics(line);
        events->scalars(step, train_scalars(s, img_s, trainer.decayed(o.train.adam_g, step - 1).lr,
                                            trainer.decayed(o.train.adam_d, step - 1).lr));
      }
      progress.update(step, img_s, loss_summary(s), eta);
      last_log_time = now;
      last_log_step = step;
    }
    // Evaluation on rank 0; every rank learns whether it stops the run early.
    bool early_stop = false;
    if (o.eval_every > 0 && (step % o.eval_every == 0 || last)) {
      if (const std::string why = unsafe_to_save(); !why.empty()) return nonfinite_stop(why);
      bool improved = false;
      if (evaluator) {
        const double at = wall_s();
        const EvalOutcome e = evaluator->evaluate(trainer, at);
        eval_s_total += e.seconds;
        const EvalState& st = evaluator->state();
        nlohmann::json line = {{"step", step},          {"wall_s", at},        {"fid", e.fid},
                               {"is", e.is},            {"is_std", e.is_std},  {"eval_s", e.seconds},
                               {"best_fid", st.best_fid}, {"best_step", st.best_step},
                               {"eval_samples", o.eval_samples}, {"features", evaluator->network()}};
        if (e.target_reached) line["target_fid_reached"] = {{"target", o.target_fid}, {"step", step}, {"wall_s", at}};
        folder->append_metrics(line);
        events->scalars(step, {{"eval/fid", e.fid}, {"eval/is", e.is}, {"eval/is_std", e.is_std},
                               {"eval/best_fid", st.best_fid}, {"eval/seconds", e.seconds}});
        std::ostringstream msg;
        msg.precision(4);
        msg << "dgtrain: step " << step << ": FID " << e.fid << ", IS " << e.is << (e.improved ? " (best)" : "")
            << " [" << e.seconds << " s]";
        if (e.target_reached) msg << "; --target-fid " << o.target_fid << " reached after " << at << " s of training";
        progress.message(msg.str());
        improved = e.improved;
        early_stop = e.stop;
        if (early_stop)
          progress.message("dgtrain: no better FID in " + std::to_string(o.early_stop) +
                           " evaluations: stopping early; the best (FID " + std::to_string(st.best_fid) + " at step " +
                           std::to_string(st.best_step) + ") is " + folder->best_checkpoint_path());
      }
      // Every rank learns rank 0's verdicts (checkpoint() is collective).
      improved = !dist.all_ok(!improved);
      early_stop = !dist.all_ok(!early_stop);
      if (improved && !checkpoint(/*best=*/true)) return kExitCheckpointFailed;
    }
    if (root && ((o.sample_every > 0 && step % o.sample_every == 0) || last || early_stop)) write_samples();
    if ((o.checkpoint_every > 0 && step % o.checkpoint_every == 0) || last || early_stop) {
      if (const std::string why = unsafe_to_save(); !why.empty()) return nonfinite_stop(why);
      if (!checkpoint()) return kExitCheckpointFailed;
    }
    if (early_stop) break;
  }
  progress.finish();
  if (stop_signal != 0) {
    if (const std::string why = unsafe_to_save(); !why.empty()) return nonfinite_stop(why);
    if (!checkpoint()) return kExitCheckpointFailed;
    if (root)
      std::printf("dgtrain: stopped by signal %d after step %lld; checkpoint %s; continue with: dgtrain --resume %s\n",
                  stop_signal, static_cast<long long>(trainer.step()), last_checkpoint.c_str(), folder_path.c_str());
    return exit_code_for_signal(stop_signal);
  }
  if (root && o.dashboard == "on")
    if (const std::string why = draw_dashboard(folder_path); !why.empty())
      progress.message("dgtrain: no dashboard.png: " + why);
  if (root)
    std::printf("dgtrain: done, %lld steps. Run folder: %s (samples/, checkpoints/, metrics.jsonl, TensorBoard "
                "events%s)\n",
                static_cast<long long>(trainer.step()), folder_path.c_str(),
                o.dashboard == "on" ? ", dashboard.png" : "");
  return kExitOk;
}

}  // namespace dg
