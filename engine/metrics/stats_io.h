// FID statistics on disk: a safetensors file with the mean (d) and covariance (d, d) in
// float64 and metadata naming what they describe, so the statistics of the real set are
// computed once and reused only for exactly the same question:
//   format "dg-feature-stats", network, count, plus the caller's keys (dataset, resolution).
#pragma once
#include <map>
#include <optional>
#include <string>

#include "engine/metrics/fid.h"

namespace dg {

using StatsKey = std::map<std::string, std::string>;

// Writes atomically (engine/safetensors.h).
void write_feature_stats(const std::string& path, const FeatureStats& stats, const StatsKey& key);

// The statistics in `path` when the file exists and its network, count and every key of
// `key` equal what is asked; std::nullopt when the file is absent or describes something
// else (it is then recomputed and overwritten). A damaged file is a dg::Error naming it.
std::optional<FeatureStats> read_feature_stats(const std::string& path, const std::string& network, int64_t count,
                                               const StatsKey& key);

}  // namespace dg
