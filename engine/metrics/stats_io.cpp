#include "engine/metrics/stats_io.h"

#include <filesystem>

#include "engine/error.h"
#include "engine/safetensors.h"

namespace dg {

static constexpr const char* kFormat = "dg-feature-stats";

void write_feature_stats(const std::string& path, const FeatureStats& stats, const StatsKey& key) {
  const int64_t d = stats.mean.size();
  SafeTensors st;
  StTensor mean, cov;
  mean.shape = {d};
  mean.f64 = true;
  mean.data64.assign(stats.mean.data(), stats.mean.data() + d);
  cov.shape = {d, d};
  cov.f64 = true;
  cov.data64.assign(stats.cov.data(), stats.cov.data() + d * d);  // symmetric: storage order does not matter
  st.tensors["mean"] = std::move(mean);
  st.tensors["cov"] = std::move(cov);
  st.metadata = key;
  st.metadata["format"] = kFormat;
  st.metadata["network"] = stats.network;
  st.metadata["count"] = std::to_string(stats.count);
  write_safetensors(path, st);
}

std::optional<FeatureStats> read_feature_stats(const std::string& path, const std::string& network, int64_t count,
                                               const StatsKey& key) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  const SafeTensors st = read_safetensors(path);
  auto meta = [&](const std::string& k) {
    auto it = st.metadata.find(k);
    return it == st.metadata.end() ? std::string() : it->second;
  };
  DG_CHECK(meta("format") == kFormat, path, ": not a dg feature-statistics file (format '", meta("format"), "')");
  if (meta("network") != network || meta("count") != std::to_string(count)) return std::nullopt;
  for (const auto& [k, v] : key)
    if (meta(k) != v) return std::nullopt;
  const StTensor& mean = st.at("mean");
  const StTensor& cov = st.at("cov");
  const int64_t d = int64_t(mean.data64.size());
  DG_CHECK(mean.f64 && cov.f64 && d >= 1 && mean.shape == std::vector<int64_t>{d} &&
               cov.shape == (std::vector<int64_t>{d, d}),
           path, ": mean and cov must be F64 of shapes (d) and (d, d)");
  FeatureStats s;
  s.count = count;
  s.network = network;
  s.mean = Eigen::Map<const Eigen::VectorXd>(mean.data64.data(), d);
  s.cov = Eigen::Map<const Eigen::MatrixXd>(cov.data64.data(), d, d);
  return s;
}

}  // namespace dg
