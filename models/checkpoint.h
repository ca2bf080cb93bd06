// Checkpoints of a GanTrainer: one safetensors file (engine/safetensors.h) holding
//   main.*                         G's state_dict under PyTorch's own names (loads into
//                                  pytorch/examples' Generator with strict=False: no
//                                  num_batches_tracked)
//   D<i>.main.*                    every discriminator's state
//   adam.G.exp_avg.main.*, adam.G.exp_avg_sq.main.*, adam.D<i>.exp_avg(_sq).main.*
// and metadata: format "dg-checkpoint", version 1, step, seed, the resolved config JSON,
// plus what the caller adds (dgtrain: wall_s, eval_state).
// The RNG needs no state of its own: its streams are counter-based and positioned by step.
// Writes are atomic (temp file, fsync, rename) and carry checksums (engine/safetensors.h).
// Loading refuses, naming the file and the tensor: a checksum that fails, a tensor missing
// or of another shape, and any NaN or Inf (weights, running statistics, Adam moments).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "engine/safetensors.h"
#include "models/gan_trainer.h"

namespace dg {

using Metadata = std::map<std::string, std::string>;
void save_checkpoint(Context& ctx, GanTrainer& trainer, const std::string& path, const std::string& config_json,
                     const Metadata& extra = {});

struct CheckpointInfo {
  int64_t step = 0;
  std::string config_json;
  Metadata metadata;         // every metadata entry, the caller's extras included
  bool checksummed = false;  // false: an older dg's file, loaded unverified
};
// The metadata of a file already read (`path` names it in errors).
CheckpointInfo checkpoint_info(const SafeTensors& st, const std::string& path);
// Reads the file (checking its checksums) and returns its metadata.
CheckpointInfo read_checkpoint_info(const std::string& path);
// Restores every tensor and the step; the trainer must have been built with the same model.
// Returns the file's metadata.
CheckpointInfo load_checkpoint(Context& ctx, GanTrainer& trainer, const std::string& path);
CheckpointInfo load_checkpoint(Context& ctx, GanTrainer& trainer, const SafeTensors& st, const std::string& path);
// What to tell the user about a file without checksums ("" when it had them).
std::string unverified_note(const CheckpointInfo& info, const std::string& path);

}  // namespace dg
