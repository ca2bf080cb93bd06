#include "tools/run/resume_flags.h"

#include "engine/error.h"

namespace dg {

namespace {

// A flag a resume accepts, and how its value carries over from the launch onto the saved
// settings. (Captureless lambdas: the table is constant data.)
struct ResumableFlag {
  const char* flag;
  void (*carry)(TrainOptions& saved, const TrainOptions& launch);
};

// The order is that of the error message.
constexpr ResumableFlag kResumableFlags[] = {
    {"--steps", [](TrainOptions& s, const TrainOptions& l) { s.steps = l.steps; s.train.total_steps = 0; }},
    {"--epochs", [](TrainOptions& s, const TrainOptions& l) { s.epochs = l.epochs; s.train.total_steps = 0; }},
    {"--device", [](TrainOptions& s, const TrainOptions& l) { s.device = l.device; }},
    {"--log-every", [](TrainOptions& s, const TrainOptions& l) { s.log_every = l.log_every; }},
    {"--sample-every", [](TrainOptions& s, const TrainOptions& l) { s.sample_every = l.sample_every; }},
    {"--checkpoint-every", [](TrainOptions& s, const TrainOptions& l) { s.checkpoint_every = l.checkpoint_every; }},
    {"--keep-checkpoints", [](TrainOptions& s, const TrainOptions& l) { s.keep_checkpoints = l.keep_checkpoints; }},
    {"--data", [](TrainOptions& s, const TrainOptions& l) { s.data = l.data; }},
    {"--dashboard", [](TrainOptions& s, const TrainOptions& l) { s.dashboard = l.dashboard; }},
    {"--cuda-graph", [](TrainOptions& s, const TrainOptions& l) { s.cuda_graph = l.cuda_graph; }},
};

}  // namespace

bool allowed_with_resume(const std::string& flag) {
  if (flag == "--resume") return true;
  for (const ResumableFlag& f : kResumableFlags)
    if (flag == f.flag) return true;
  return false;
}

std::string resumable_flags_text() {
  std::string text;
  for (const ResumableFlag& f : kResumableFlags) text += (text.empty() ? "" : " ") + std::string(f.flag);
  return text;
}

void check_flags_allowed_with_resume(const std::set<std::string>& given, const std::string& run_folder) {
  for (const std::string& f : given)
    DG_CHECK(allowed_with_resume(f), f, " cannot be combined with --resume: the run's settings come from ",
             run_folder, "/config.json (allowed: ", resumable_flags_text(), ")");
}

TrainOptions with_resumable_flags(TrainOptions saved, const TrainOptions& launch, const std::set<std::string>& given) {
  for (const ResumableFlag& f : kResumableFlags)
    if (given.count(f.flag)) f.carry(saved, launch);
  saved.resume = launch.resume;
  return saved;
}

}  // namespace dg
