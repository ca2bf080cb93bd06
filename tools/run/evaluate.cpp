#include "tools/run/evaluate.h"

#include <algorithm>
#include <filesystem>

#include "data/preprocess.h"
#include "engine/error.h"
#include "engine/fnv1a.h"
#include "engine/metrics/stats_io.h"
#include "kernels/softmax/softmax.h"
#include "kernels/random/random.h"
#include "kernels/elementwise/elementwise.h"

namespace dg {

ImageSource generator_source(GanTrainer& trainer) {
  return [&trainer](Context& ctx, int64_t first, Tensor out) {
    const TrainConfig& cfg = trainer.config();
    const int nz = cfg.model.nz;
    Tensor z = ctx.alloc({out.n(), nz, 1, 1});
    fill_normal(ctx, z, 0.0f, 1.0f, cfg.seed, rng_stream::eval_noise, uint64_t(first) * uint64_t(nz));
    copy(ctx, trainer.generate_eval(z), out);
  };
}

ImageSource dataset_source(const data::ImageSet& set, int size, int channels) {
  data::check_channels(set, channels);
  return [&set, size, channels](Context& ctx, int64_t first, Tensor out) {
    DG_CHECK(first + out.n() <= set.count, set.source, " holds ", set.count, " images; evaluation asked for image ",
             first + out.n() - 1);
    const size_t per = size_t(channels) * size * size;
    std::vector<float> host(per * size_t(out.n()));
    for (int i = 0; i < out.n(); i++) data::preprocess_image(set, int(first) + i, size, channels, host.data() + per * i);
    ctx.upload(out, host.data());
  };
}

FeatureSet extract(Context& ctx, FeatureNet& net, const ImageSource& source, int channels, int size, int64_t count,
                   Wanted wanted) {
  DG_CHECK(count >= 1, "evaluation needs at least one sample, got ", count);
  FeatureSet f;
  f.count = count;
  f.dim = net.feature_dim();
  f.classes = net.classes();
  FeatureAccumulator acc(f.dim, net.name());
  if (wanted.features) f.features.resize(size_t(count) * f.dim);
  if (wanted.probs) f.probs.resize(size_t(count) * f.classes);
  const int batch = std::min(kEvalBatch, net.max_batch());
  std::vector<float> feat(size_t(batch) * f.dim);
  for (int64_t first = 0; first < count; first += batch) {
    const int n = int(std::min<int64_t>(batch, count - first));
    ScratchScope scratch(ctx);
    Tensor images = ctx.alloc({n, channels, size, size});
    source(ctx, first, images);
    Tensor tf = ctx.alloc({n, f.dim});
    Tensor tl = wanted.probs ? ctx.alloc({n, f.classes}) : Tensor{};
    net.forward(ctx, images, tf, tl);
    ctx.download(tf, feat.data());
    if (wanted.stats) acc.add(feat.data(), n);
    if (wanted.features) std::copy(feat.begin(), feat.begin() + size_t(n) * f.dim, f.features.begin() + first * f.dim);
    if (wanted.probs) {  // softmax where the logits are (kernels/softmax/softmax.h): only probabilities come back
      Tensor probs = ctx.alloc({n, f.classes});
      softmax_forward(ctx, tl, probs);
      ctx.download(probs, f.probs.data() + first * f.classes);
    }
  }
  if (wanted.stats) f.stats = acc.finish();
  return f;
}

static StatsKey stats_key(const data::ImageSet& set, int size, int channels) {
  return {{"dataset", set.source},
          {"dataset_images", std::to_string(set.count)},
          {"resolution", std::to_string(channels) + "x" + std::to_string(size) + "x" + std::to_string(size)}};
}

std::string real_stats_cache_path(const std::string& folder, const FeatureNet& net, const data::ImageSet& set,
                                  int size, int channels, int64_t count) {
  // A readable name is not needed (the metadata says everything); a stable one per question is.
  std::string key = net.name() + "|" + std::to_string(count);
  for (const auto& [k, v] : stats_key(set, size, channels)) key += "|" + k + "=" + v;
  Fnv1a h;
  h.add(key);
  return (std::filesystem::path(folder) / ("real-stats-" + h.hex() + ".safetensors")).string();
}

FeatureStats real_stats(Context& ctx, FeatureNet& net, const data::ImageSet& set, int size, int channels,
                        int64_t count, const std::string& cache_path, std::string* note) {
  DG_CHECK(count <= set.count, "FID: ", count, " real samples asked, but ", set.source, " holds ", set.count,
           " images (use fewer --samples / --eval-samples)");
  const StatsKey key = stats_key(set, size, channels);
  if (auto cached = read_feature_stats(cache_path, net.name(), count, key)) {
    if (note) *note = "real statistics from " + cache_path;
    return *cached;
  }
  FeatureSet f = extract(ctx, net, dataset_source(set, size, channels), channels, size, count, Wanted{});
  write_feature_stats(cache_path, f.stats, key);
  if (note) *note = "real statistics of " + std::to_string(count) + " images computed, cached in " + cache_path;
  return f.stats;
}

ScoreWithSpread inception_score_of(const FeatureSet& f) {
  DG_CHECK(!f.probs.empty(), "IS: no class probabilities were extracted");
  return inception_score(f.probs.data(), f.count, f.classes, std::min<int64_t>(kIsSplits, f.count));
}

}  // namespace dg
