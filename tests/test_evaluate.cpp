// Evaluation plumbing: FID statistics files, the real-statistics cache, feature-network
// loading, and the generator's evaluation images (tools/run/evaluate.h).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "data/read_idx.h"
#include "engine/error.h"
#include "engine/metrics/stats_io.h"
#include "engine/safetensors.h"
#include "models/checkpoint.h"
#include "models/classifier.h"
#include "models/inception.h"
#include "engine/param_io.h"
#include "tests/hash_weights.h"
#include "tests/eval_files.h"
#include "tools/run/evaluate.h"

namespace fs = std::filesystem;
using namespace dg;

namespace {
// An untrained classifier saved to `path` (evaluation plumbing needs a network, not a good one).
void save_random_classifier(Context& ctx, const std::string& path, uint64_t seed) {
  ClassifierConfig cfg;
  cfg.classes = 3;
  cfg.width = 4;
  Classifier c(ctx, cfg, true);
  c.init_weights(ctx, seed);
  c.save(ctx, path, {{"dataset", "test"}});
}

FeatureStats small_stats() {
  FeatureStats s;
  s.count = 5;
  s.network = "net #1";
  s.mean = Eigen::VectorXd::LinSpaced(3, 0.1, 0.3);
  s.cov = Eigen::MatrixXd::Identity(3, 3) / 3.0;
  s.cov(0, 1) = s.cov(1, 0) = 1e-17;
  return s;
}
}  // namespace

TEST_CASE("FID statistics files: exact round trip, reused only for the same question") {
  test::TempDir dir;
  const std::string p = dir / "stats.safetensors";
  const FeatureStats s = small_stats();
  const StatsKey key{{"dataset", "a"}, {"resolution", "1x32x32"}};
  CHECK_FALSE(read_feature_stats(p, s.network, s.count, key).has_value());  // absent
  write_feature_stats(p, s, key);
  const auto back = read_feature_stats(p, s.network, s.count, key);
  REQUIRE(back.has_value());
  CHECK(back->mean == s.mean);
  CHECK(back->cov == s.cov);
  CHECK(back->network == s.network);
  CHECK(frechet_distance(*back, s) == doctest::Approx(0).epsilon(1e-12));
  // Another network, count or key: not these statistics.
  CHECK_FALSE(read_feature_stats(p, "net #2", s.count, key).has_value());
  CHECK_FALSE(read_feature_stats(p, s.network, s.count + 1, key).has_value());
  CHECK_FALSE(read_feature_stats(p, s.network, s.count, {{"dataset", "b"}, {"resolution", "1x32x32"}}).has_value());
  // A file of another kind is an error, not a miss.
  SafeTensors other;
  other.tensors["w"] = {{1}, {1.0f}};
  write_safetensors(p, other);
  CHECK_THROWS_WITH_AS(read_feature_stats(p, s.network, s.count, key), doctest::Contains("not a dg feature-statistics"),
                       Error);
}

TEST_CASE("load_feature_net refuses files that are not feature networks, naming them") {
  test::TempDir dir;
  Context ctx;
  const std::string p = dir / "w.safetensors";
  SafeTensors st;
  st.tensors["main.0.weight"] = {{1}, {1.0f}};
  st.metadata["format"] = "dg-checkpoint";
  write_safetensors(p, st);
  CHECK_THROWS_WITH_AS(load_feature_net(ctx, p), doctest::Contains("w.safetensors: not a feature network"), Error);
  CHECK_THROWS_WITH_AS(load_feature_net(ctx, p), doctest::Contains("format is 'dg-checkpoint'"), Error);
  CHECK_THROWS_AS(load_feature_net(ctx, dir / "missing.safetensors"), Error);
}

TEST_CASE("feature networks are named by their weights: two classifiers never share statistics") {
  test::TempDir dir;
  Context ctx;
  save_random_classifier(ctx, dir / "a.safetensors", 1);
  save_random_classifier(ctx, dir / "b.safetensors", 2);
  auto a = load_feature_net(ctx, dir / "a.safetensors");
  auto b = load_feature_net(ctx, dir / "b.safetensors");
  CHECK(a->name().find("dg-classifier 32x32x1 #") == 0);
  CHECK(a->name() != b->name());
  CHECK(a->name() == load_feature_net(ctx, dir / "a.safetensors")->name());
  FeatureStats sa = small_stats(), sb = small_stats();
  sa.network = a->name();
  sb.network = b->name();
  CHECK_THROWS_WITH_AS(frechet_distance(sa, sb), doctest::Contains("different networks"), Error);
}

TEST_CASE("real statistics are computed once, cached, and the cache is exact") {
  test::TempDir dir;
  Context ctx;
  test::write_labelled_idx(dir.path.string(), "train", 40, 3, 7);
  const data::ImageSet set = data::read_idx(dir / "train-images-idx3-ubyte.gz");
  save_random_classifier(ctx, dir / "c.safetensors", 3);
  auto net = load_feature_net(ctx, dir / "c.safetensors");
  const std::string cache = real_stats_cache_path(dir.path.string(), *net, set, 32, 1, 30);
  std::string note;
  const FeatureStats first = real_stats(ctx, *net, set, 32, 1, 30, cache, &note);
  CHECK(note.find("computed") != std::string::npos);
  CHECK(fs::exists(cache));
  const FeatureStats again = real_stats(ctx, *net, set, 32, 1, 30, cache, &note);
  CHECK(note.find("real statistics from ") == 0);
  CHECK(again.mean == first.mean);
  CHECK(again.cov == first.cov);
  CHECK(frechet_distance(first, again) == doctest::Approx(0).epsilon(1e-9));
  // Another sample count is another question: another file.
  CHECK(real_stats_cache_path(dir.path.string(), *net, set, 32, 1, 31) != cache);
  // More samples than the set holds: a clear error.
  CHECK_THROWS_WITH_AS(real_stats(ctx, *net, set, 32, 1, 41, dir / "x.safetensors", &note),
                       doctest::Contains("41 real samples asked"), Error);
  // The same images through extract() without the cache: the same statistics.
  const FeatureSet direct = extract(ctx, *net, dataset_source(set, 32, 1), 1, 32, 30, Wanted{});
  CHECK(direct.stats.mean == first.mean);
}

TEST_CASE("a generator's evaluation images depend only on their index and the batch they are made in") {
  // Sample i is G(z_i), z_i at offset i * nz of the evaluation stream; evaluation always cuts
  // the samples into the same batches (kEvalBatch), because the CPU's matrix products may
  // round differently for another batch size (the values then differ in the last bits).
  Context ctx;
  TrainConfig cfg;
  cfg.model.nz = 8;
  cfg.model.ngf = cfg.model.ndf = 4;
  cfg.batch_size = 4;
  GanTrainer trainer(ctx, cfg);
  trainer.init_weights();
  const ImageSource src = generator_source(trainer);
  const size_t per = 32 * 32;
  std::vector<float> a(3 * per), b(3 * per), c(3 * per), z(3 * per);
  ScratchScope s(ctx);
  Tensor t = ctx.alloc({3, 1, 32, 32});
  src(ctx, 5, t);
  ctx.download(t, a.data());
  trainer.train_step(ctx.zeros({4, 1, 32, 32}));  // training in between changes the weights...
  src(ctx, 6, t);
  ctx.download(t, c.data());
  GanTrainer again(ctx, cfg);  // ... so compare with a fresh generator of the same seed
  again.init_weights();
  generator_source(again)(ctx, 5, t);
  ctx.download(t, b.data());
  CHECK(a == b);
  generator_source(again)(ctx, 6, t);  // images 6..8: other noise
  ctx.download(t, z.data());
  CHECK(a != z);
  CHECK(c != z);  // the trained generator's images differ from the untrained one's
}

TEST_CASE("converted FID Inception weights load as a feature network and give 2048-d features") {
  test::TempDir dir;
  Context ctx;
  {
    InceptionFid net(ctx);
    test::fill_hash_weights(net.store());
    SafeTensors st;
    save_store(ctx, net.store(), StorePart::state, "", st);  // the converter's names
    write_safetensors(dir / "inception.safetensors", st);
  }
  auto net = load_feature_net(ctx, dir / "inception.safetensors");
  CHECK(net->name().find("inception-v3-fid #") == 0);
  CHECK(net->feature_dim() == 2048);
  CHECK(net->classes() == 1008);
  test::write_labelled_idx(dir.path.string(), "train", 3, 3, 5);
  const data::ImageSet set = data::read_idx(dir / "train-images-idx3-ubyte.gz");
  const FeatureSet f = extract(ctx, *net, dataset_source(set, 32, 1), 1, 32, 3, Wanted{true, true, true});
  CHECK(f.stats.network == net->name());
  CHECK(f.features.size() == 3u * 2048u);
  CHECK(f.probs.size() == 3u * 1008u);
  double row = 0;
  for (int c = 0; c < 1008; c++) row += f.probs[c];
  CHECK(row == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(f.features[0] != f.features[2048]);  // two different images, two different feature vectors
}
