// Where a --resume starts: the newest intact checkpoint of the run folder.
//
// A checkpoint is damaged when it cannot be read (a bad header, a truncated file, a checksum
// that fails), holds a NaN or an Inf, does not fit the model, or belongs to another run (its
// recorded settings differ from the run's beyond what a resume may change). Going from the
// newest back, the first intact one is loaded into the trainer; the damaged ones newer than
// it are renamed <name>.damaged (kept, never deleted) and each is reported on stderr with
// why. With none intact nothing is renamed, and the error lists every file and its fault.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "models/checkpoint.h"
#include "tools/run/run_folder.h"

namespace dg {

struct ResumePoint {
  std::string path;     // the checkpoint loaded
  CheckpointInfo info;  // its metadata
};

// `config`: the run's resolved settings (config.json with this launch's flags).
ResumePoint resume_from_newest_intact(Context& ctx, GanTrainer& trainer, RunFolder& folder,
                                      const nlohmann::json& config);

}  // namespace dg
