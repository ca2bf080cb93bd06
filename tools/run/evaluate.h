// Evaluation of a generator (DESIGN §7): images from a source, through a feature network,
// into FID statistics, IS class probabilities and KID features.
//
// The generated images of an evaluation are always the same ones for the same weights:
// sample i is G(z_i) in eval mode with z_i from the run's own Philox stream for evaluation
// (rng_stream::eval_noise of the run's seed, offset i * nz), in batches of kEvalBatch. So
// `dgeval --checkpoint` reproduces the FID `dgtrain --eval-every` logged for that checkpoint.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "engine/metrics/fid.h"
#include "engine/metrics/inception_score.h"
#include "models/feature_net.h"
#include "models/gan_trainer.h"

namespace dg {

constexpr int kEvalBatch = 100;
constexpr int kIsSplits = 10;

// Writes images [first, first + out.n()) of a source into out (n, C, S, S), in [-1, 1].
using ImageSource = std::function<void(Context& ctx, int64_t first, Tensor out)>;

ImageSource generator_source(GanTrainer& trainer);
// Images of a data set in file order, preprocessed like training batches (data/preprocess.h).
ImageSource dataset_source(const data::ImageSet& set, int size, int channels);

struct Wanted {
  bool stats = true;      // FeatureStats (FID)
  bool features = false;  // every feature vector (KID)
  bool probs = false;     // every softmax (IS)
};
struct FeatureSet {
  int64_t count = 0;
  int dim = 0, classes = 0;
  FeatureStats stats;
  std::vector<float> features;  // (count, dim) when wanted
  std::vector<float> probs;     // (count, classes) when wanted
};

// Runs `net` over images [0, count) of `source`, each of shape (channels, size, size).
FeatureSet extract(Context& ctx, FeatureNet& net, const ImageSource& source, int channels, int size, int64_t count,
                   Wanted wanted);

// FID statistics of the first `count` images of a real set, at the generator's resolution
// (size, channels); read from `cache_path` when it holds exactly these (network, data set,
// resolution, count), else computed and written there. `note` says which happened.
FeatureStats real_stats(Context& ctx, FeatureNet& net, const data::ImageSet& set, int size, int channels,
                        int64_t count, const std::string& cache_path, std::string* note);

// The cache file name for a feature network and a data set: folder/real-stats-<hash>.safetensors.
std::string real_stats_cache_path(const std::string& folder, const FeatureNet& net, const data::ImageSet& set,
                                  int size, int channels, int64_t count);

// IS of a FeatureSet's probabilities (kIsSplits splits).
ScoreWithSpread inception_score_of(const FeatureSet& f);

}  // namespace dg
