// setup_or_resume (tools/run/training_run.h): everything before the first step, in the order
// a user would want failures: a bad --resume or --device before the data loads, the data
// before the run folder exists.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "data/load_dataset.h"
#include "kernels/random/random.h"
#include "tools/run/device_choice.h"
#include "tools/run/resume.h"
#include "tools/run/resume_flags.h"
#include "tools/run/training_run.h"

namespace fs = std::filesystem;

namespace dg {

TrainOptions options_for_launch(TrainOptions o, const std::set<std::string>& given, Distributed& dist) {
  if (!o.resume.empty()) {  // the run folder's config wins; only a few flags may be given again
    check_flags_allowed_with_resume(given, o.resume);
    const nlohmann::json saved_config =
        dist.share_json(dist.is_root() ? RunFolder(o.resume, true).read_config() : nlohmann::json{});
    TrainOptions saved = options_from_json(saved_config);
    check_distributed_settings(saved_config, dist, saved.train);
    o = with_resumable_flags(std::move(saved), o, given);
  }
  check_flag_combinations(o);
  return o;
}

TrainingRun::TrainingRun(TrainOptions options, Distributed& d, RunHooks h)
    : o(std::move(options)),
      dist(d),
      hooks(std::move(h)),
      root(d.is_root()),
      resuming(!o.resume.empty()),
      progress(0, ::isatty(STDOUT_FILENO) != 0, !root) {}

namespace {

void open_device(TrainingRun& r) {
  const DeviceChoice d = choose_device(r.o.device);
  if (!d.cpu_because.empty()) r.progress.message("dgtrain: " + d.cpu_because + ": training on the CPU");
  ContextOptions copt;
  copt.device = d.device;
  copt.deterministic = r.o.deterministic;
  if (copt.device == Device::cuda) copt.cuda_device = r.dist.cuda_device();
  r.ctx = std::make_unique<Context>(copt);
  r.comm = &r.dist.connect(*r.ctx);
}

// The data set, this rank's loader over it, and the run's length (--steps, else --epochs of
// this data, else the default).
void load_data(TrainingRun& r) {
  TrainOptions& o = r.o;
  r.set = data::load_dataset(o.data, data::parse_format(o.data_format), o.train.model.image_size);
  if (o.train.model.channels == 0) o.train.model.channels = r.set.channels;
  DG_CHECK(r.set.count >= o.train.batch_size, o.data, " holds ", r.set.count, " images, fewer than --batch-size ",
           o.train.batch_size);
  const data::LoaderConfig lcfg{o.train.batch_size,         o.train.model.image_size, o.train.model.channels,
                                o.train.seed,               r.dist.rank(),            r.dist.world_size()};
  r.loader = std::make_unique<data::Loader>(r.set, lcfg);
  if (o.train.total_steps == 0)
    o.train.total_steps =
        o.steps > 0 ? o.steps : o.epochs > 0 ? o.epochs * r.loader->batches_per_epoch() : kDefaultSteps;
  r.total = o.train.total_steps;
}

std::string default_run_name(const TrainOptions& o) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  const TrainConfig& t = o.train;
  std::ostringstream s;
  s << t.model.arch << (t.model.arch == "dcgan" ? std::to_string(t.model.image_size) : "") << "-k"
    << t.discriminators << "-" << gloss_name(t.g_loss.mode) << "-" << stamp;
  return s.str();
}

// The run folder (rank 0 makes it, or opens the resumed one) and its config.json.
void open_run_folder(TrainingRun& r) {
  if (r.o.run_name.empty()) r.o.run_name = default_run_name(r.o);
  r.folder_path = r.resuming ? r.o.resume : (fs::path(r.o.out) / r.o.run_name).string();
  if (r.root) r.folder = std::make_unique<RunFolder>(r.folder_path, r.resuming);
  r.config = to_json(r.o);
  record_distributed_settings(r.config, r.o.train, r.dist);
  if (r.root) r.folder->write_config(r.config);
}

// Rank 0 of a resume: the newest intact checkpoint, its run time and evaluation state, and
// the run folder tidied of what the steps about to be trained again had written.
void resume_on_root(TrainingRun& r) {
  const ResumePoint from = resume_from_newest_intact(*r.ctx, *r.trainer, *r.folder, r.config);
  r.resumed_from = from.path;
  r.resumed_meta = from.info.metadata;
  if (const std::string note = unverified_note(from.info, from.path); !note.empty())
    std::fprintf(stderr, "dgtrain: note: %s\n", note.c_str());
  if (r.resumed_meta.count("wall_s")) r.wall_before = std::atof(r.resumed_meta["wall_s"].c_str());
  if (r.resumed_meta.count("eval_s")) r.eval_s_total = std::atof(r.resumed_meta["eval_s"].c_str());
  const int64_t step = r.trainer->step();
  r.progress.message("dgtrain: resuming " + r.folder_path + " from step " + std::to_string(step));
  if (const std::string tidied = r.folder->tidy_for_resume(step); !tidied.empty())
    r.progress.message("dgtrain: " + tidied);
  if (const std::string tidied = tidy_events_for_resume(r.folder_path, step); !tidied.empty())
    r.progress.message("dgtrain: " + tidied);
}

void start_or_resume_trainer(TrainingRun& r) {
  r.trainer = std::make_unique<GanTrainer>(*r.ctx, r.o.train, r.comm);
  r.trainer->use_cuda_graph(r.o.cuda_graph == "on" && r.ctx->on_cuda());
  if (r.resuming && r.root)
    resume_on_root(r);
  else if (!r.resuming)
    r.trainer->init_weights();
  r.trainer->broadcast_state();  // every rank starts from rank 0's weights, moments and step
  r.last_checkpoint = r.resumed_from;
}

// TensorBoard events (rank 0): a new file for this launch; a resume's START drops, in a
// TensorBoard already watching, the steps that are about to be trained again.
void open_events(TrainingRun& r) {
  if (!r.root) return;
  r.events = std::make_unique<EventFile>(r.folder_path, r.resuming ? r.trainer->step() + 1 : 0);
  std::string md = "    " + r.config.dump(2);  // an indented block: shown as code
  for (size_t at = md.find('\n'); at != std::string::npos; at = md.find('\n', at + 1)) md.insert(at + 1, "    ");
  r.events->text(r.trainer->step(), "config", md);
}

// How the gradients are averaged (the start-up line of a multi-rank run).
std::string bucket_summary(int64_t bytes) {
  if (bytes == 0) return "; gradients averaged after each backward";
  std::ostringstream o;
  o << "; gradients averaged in " << double(bytes) / (1024.0 * 1024.0) << " MiB buckets during the backward";
  return o.str();
}

void announce(TrainingRun& r) {
  const TrainConfig& t = r.o.train;
  const ModelConfig& m = t.model;
  r.progress.message("dgtrain: " + m.arch + " " + std::to_string(m.image_size) + "x" + std::to_string(m.image_size) +
                     "x" + std::to_string(m.channels) + ", K=" + std::to_string(t.discriminators) + " (" +
                     gloss_name(t.g_loss.mode) + "), batch " + std::to_string(t.batch_size) + ", " +
                     std::to_string(r.total) + " steps on " + device_name(r.ctx->device()) + ", " +
                     std::to_string(r.set.count) + " images from " + r.set.source + "; run folder " + r.folder_path);
  if (r.dist.world_size() > 1)
    r.progress.message("dgtrain: " + r.dist.describe() + "; batch " + std::to_string(t.batch_size) + " per rank, " +
                       std::to_string(t.batch_size * r.dist.world_size()) + " in all" +
                       (t.sync_bn ? "; BatchNorm statistics synchronized" : "; BatchNorm statistics per rank") +
                       bucket_summary(t.grad_bucket_bytes));
}

// The persistent tensors: the real batch (behind its uploader) and the fixed sample noise.
void allocate_batch_and_sample_noise(TrainingRun& r) {
  const ModelConfig& m = r.o.train.model;
  const int B = r.o.train.batch_size, S = m.image_size, C = m.channels;
  r.batches = std::make_unique<BatchUpload>(*r.ctx, Shape{B, C, S, S});
  r.fixed_z = r.ctx->alloc({TrainingRun::kSamples, m.nz, 1, 1});
  fill_normal(*r.ctx, r.fixed_z, 0.0f, 1.0f, r.o.train.seed, rng_stream::sample_noise);
  r.sample_host.resize(size_t(TrainingRun::kSamples) * C * S * S);
}

// Evaluation (--eval-every), on rank 0: the feature network and the real statistics, before
// the clock starts.
void start_evaluator(TrainingRun& r) {
  if (r.o.eval_every == 0 || !r.root) return;
  std::string note;
  r.evaluator = std::make_unique<TrainEvaluator>(*r.ctx, r.o, r.set, r.folder_path, &note);
  r.progress.message("dgtrain: FID every " + std::to_string(r.o.eval_every) + " steps on " +
                     std::to_string(r.o.eval_samples) + " samples, features " + r.evaluator->network() + "; " + note);
  if (r.resumed_meta.count("eval_state"))
    r.evaluator->state() = eval_state_from_json(nlohmann::json::parse(r.resumed_meta["eval_state"]));
}

}  // namespace

void setup_or_resume(TrainingRun& r) {
  open_device(r);  // first: a wrong --device should not wait for the data to load
  load_data(r);
  open_run_folder(r);
  start_or_resume_trainer(r);
  open_events(r);
  r.loader->seek(r.trainer->step());
  announce(r);
  allocate_batch_and_sample_noise(r);
  start_evaluator(r);
}

}  // namespace dg
