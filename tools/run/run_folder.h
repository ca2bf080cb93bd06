// The run folder of DESIGN §9:
//   <out>/<name>/config.json            every setting, resolved
//   <out>/<name>/metrics.jsonl          one JSON object per log point
//   <out>/<name>/events.out.tfevents.*  the same for TensorBoard, one file per launch (tools/run/tb_events.h)
//   <out>/<name>/dashboard.png          losses, FID, img/s, selections, drawn at the end (tools/dgplot.py)
//   <out>/<name>/samples/step_XXXXXX.png  the fixed-noise sample grid
//   <out>/<name>/checkpoints/step_XXXXXX.safetensors
//   <out>/<name>/checkpoints/best.safetensors   the best FID so far (--eval-every)
//   <out>/<name>/checkpoints/*.damaged          checkpoints a resume found damaged, kept
//   <out>/<name>/real-stats-*.safetensors      cached FID statistics of the real set
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/context.h"

namespace dg {

class RunFolder {
 public:
  // Creates the folders (an existing run folder is an error unless `existing`); fails with
  // the path and the reason when it cannot (e.g. an unwritable --out).
  RunFolder(const std::string& path, bool existing);

  const std::string& path() const { return path_; }
  void write_config(const nlohmann::json& config);
  nlohmann::json read_config() const;
  void append_metrics(const nlohmann::json& line);  // flushed at once
  std::string checkpoint_path(int64_t step) const;
  std::vector<std::string> checkpoints() const;     // step_*.safetensors, oldest first (not best)
  std::string latest_checkpoint() const;            // "" when there is none (best is not a candidate)
  // Renames a damaged checkpoint to <name>.damaged (.damaged.2, ... when taken): kept for
  // the user to look at, never deleted, no longer a checkpoint of the run. Returns the new path.
  std::string set_aside(const std::string& checkpoint);
  std::string best_checkpoint_path() const;         // never pruned
  // Before a resume from `step`: deletes what a killed run left half-written (*.tmp files)
  // and drops metrics lines logged after `step` (they will be logged again) or torn by the
  // kill, rewriting metrics.jsonl atomically. Returns what it did, for the user ("" if nothing).
  std::string tidy_for_resume(int64_t step);
  // Deletes all but the newest `keep` checkpoints, never `protect` (the one a resume
  // started from). keep <= 0 keeps everything.
  void prune_checkpoints(int keep, const std::string& protect);
  // images (N, C, S, S) in [-1, 1] on the host -> an 8-wide grid PNG, written atomically.
  struct Grid {
    std::string path, png;  // the file, and its bytes
    int width = 0, height = 0, channels = 0;
  };
  Grid write_sample_grid(int64_t step, const float* images, int n, int channels, int size);

 private:
  std::string path_;
  std::ofstream metrics_;
};

// (H, W, C in {1, 3}) pixels already scaled to 0..255 as PNG bytes.
std::string encode_png(const unsigned char* hwc, int width, int height, int channels);

}  // namespace dg
