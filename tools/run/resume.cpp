#include "tools/run/resume.h"

#include <cstdio>
#include <vector>

#include "tools/run/train_options.h"

namespace dg {

// Reads, checks and loads one checkpoint; dg::Error saying what is wrong with it.
static CheckpointInfo try_load(Context& ctx, GanTrainer& trainer, const std::string& path,
                               const nlohmann::json& config) {
  const SafeTensors st = read_safetensors(path);
  const CheckpointInfo info = checkpoint_info(st, path);
  const nlohmann::json recorded = nlohmann::json::parse(info.config_json, nullptr, false);
  DG_CHECK(recorded.is_object(), path, ": the recorded config is not a JSON object");
  const std::string differ = differing_run_settings(recorded, config);
  DG_CHECK(differ.empty(), path, ": belongs to another run: its settings differ from this run's config.json in ",
           differ);
  return load_checkpoint(ctx, trainer, st, path);
}

ResumePoint resume_from_newest_intact(Context& ctx, GanTrainer& trainer, RunFolder& folder,
                                      const nlohmann::json& config) {
  const std::vector<std::string> all = folder.checkpoints();
  DG_CHECK(!all.empty(), "--resume ", folder.path(), ": no checkpoint in ", folder.path(),
           "/checkpoints to resume from");
  std::vector<std::pair<std::string, std::string>> damaged;  // path, why
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      const CheckpointInfo info = try_load(ctx, trainer, *it, config);
      for (const auto& [path, why] : damaged) {
        const std::string kept = folder.set_aside(path);
        std::fprintf(stderr, "dgtrain: %s is damaged: %s\ndgtrain: kept as %s; resuming from %s (step %lld) instead\n",
                     path.c_str(), why.c_str(), kept.c_str(), it->c_str(), static_cast<long long>(info.step));
      }
      return {*it, info};
    } catch (const Error& e) {
      damaged.push_back({*it, e.what()});
    }
  }
  std::string list;
  for (const auto& [path, why] : damaged) list += "\n  " + why;
  DG_FAIL("--resume ", folder.path(), ": no intact checkpoint to resume from (", damaged.size(),
          " damaged, left as they are):", list);
}

}  // namespace dg
