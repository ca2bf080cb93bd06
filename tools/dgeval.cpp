// dgeval: evaluation with dg's own networks (DESIGN §7).
//   dgeval train-classifier --data D [--out F]   trains the small feature classifier
//   dgeval fid|is|kid (--checkpoint CKPT | --images DIR) --features F [--real D] [--samples N]
// Prints the value and the feature network it came from (never a bare number: FIDs of two
// feature networks are not comparable). --json adds one JSON line for scripts.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "data/data_error.h"
#include "data/load_dataset.h"
#include "engine/metrics/kid.h"
#include "models/checkpoint.h"
#include "models/classifier.h"
#include "tools/run/device_choice.h"
#include "tools/run/evaluate.h"
#include "tools/run/train_options.h"

namespace fs = std::filesystem;
using namespace dg;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// --device (tools/run/device_choice.h); a failing CUDA runtime is named, no device is not.
Context make_context(const std::string& device) {
  const DeviceChoice d = choose_device(device);
  if (d.runtime_failed) std::fprintf(stderr, "dgeval: %s: evaluating on the CPU\n", d.cpu_because.c_str());
  ContextOptions o;
  o.device = d.device;
  return Context(o);
}

// ---- train-classifier ----
struct ClassifierArgs {
  std::string data = "fashion-mnist", test_data, out = "classifier.safetensors", device = "auto";
  int image_size = 32, channels = 0;
  ClassifierTrainConfig train;
};

// The test set: --test-data, else the data set's own test split when it has a known one
// (fashion-mnist, an IDX train-* file with its t10k-* sibling), else the last 10% held out.
data::ImageSet split_off_test(data::ImageSet& train, const ClassifierArgs& a, std::string* how) {
  std::string test_path = a.test_data;
  if (test_path.empty()) {
    fs::path src(train.source);
    const std::string name = src.filename().string();
    if (name.rfind("train-images", 0) == 0) {
      fs::path t10k = src.parent_path() / ("t10k" + name.substr(5));
      if (fs::exists(t10k)) test_path = t10k.string();
    }
  }
  if (!test_path.empty()) {
    *how = "test set " + test_path;
    return data::load_dataset(test_path, data::Format::automatic, a.image_size);
  }
  const int n_test = train.count / 10;
  DG_CHECK(n_test >= 1, train.source, ": ", train.count, " images are too few to hold out a test set; give --test-data");
  data::ImageSet test;
  test.count = n_test;
  test.channels = train.channels;
  test.height = train.height;
  test.width = train.width;
  test.source = train.source + " (last " + std::to_string(n_test) + " images, held out)";
  const size_t per = train.bytes_per_image(), keep = size_t(train.count - n_test);
  test.pixels.assign(train.pixels.begin() + long(keep * per), train.pixels.end());
  test.labels.assign(train.labels.begin() + long(keep), train.labels.end());
  train.pixels.resize(keep * per);
  train.labels.resize(keep);
  train.count = int(keep);
  *how = "the last " + std::to_string(n_test) + " images held out as the test set";
  return test;
}

int train_classifier_command(const ClassifierArgs& a) {
  Context ctx = make_context(a.device);
  data::ImageSet train = data::load_dataset(a.data, data::Format::automatic, a.image_size);
  DG_CHECK(!train.labels.empty(), a.data, ": has no labels; a classifier needs a labelled data set (IDX with its "
                                  "labels file, CIFAR, SVHN)");
  std::string how;
  const data::ImageSet test = split_off_test(train, a, &how);
  DG_CHECK(!test.labels.empty(), test.source, ": has no labels");
  int classes = 0;
  for (int32_t l : train.labels) classes = std::max(classes, int(l) + 1);
  ClassifierConfig cfg;
  cfg.channels = a.channels > 0 ? a.channels : train.channels;
  cfg.image_size = a.image_size;
  cfg.classes = classes;
  std::printf("dgeval: training a %d-class classifier on %d images of %s (%s), %dx%dx%d, on %s\n", classes,
              train.count, train.source.c_str(), how.c_str(), cfg.image_size, cfg.image_size, cfg.channels,
              device_name(ctx.device()));
  Classifier net(ctx, cfg, /*training=*/true);
  net.init_weights(ctx, a.train.seed);
  const ClassifierReport r = train_classifier(ctx, net, train, test, a.train, [](const std::string& line) {
    std::printf("dgeval: %s\n", line.c_str());
    std::fflush(stdout);
  });
  char acc[32];
  std::snprintf(acc, sizeof acc, "%.4f", r.test_accuracy);
  net.save(ctx, a.out,
           {{"dataset", train.source}, {"test_set", test.source}, {"test_accuracy", acc},
            {"epochs", std::to_string(r.epochs)}});
  std::printf("dgeval: test accuracy %.2f%% after %d epochs (%.1f s); saved %s\n", 100.0 * r.test_accuracy, r.epochs,
              r.seconds, a.out.c_str());
  return 0;
}

// ---- fid / is / kid ----
// Image folders are read as RGB (data/read_image_folder.h). When every pixel has R = G = B
// the images are gray, and one plane says exactly the same: keep one, so a gray classifier
// can judge them. Color images stay RGB.
void keep_one_plane_if_gray(data::ImageSet& set) {
  if (set.channels != 3) return;
  const size_t plane = size_t(set.height) * set.width;
  for (int i = 0; i < set.count; i++) {
    const uint8_t* p = set.pixels.data() + size_t(i) * 3 * plane;
    for (size_t k = 0; k < plane; k++)
      if (p[k] != p[plane + k] || p[k] != p[2 * plane + k]) return;
  }
  std::vector<uint8_t> gray(size_t(set.count) * plane);
  for (int i = 0; i < set.count; i++)
    std::copy_n(set.pixels.data() + size_t(i) * 3 * plane, plane, gray.data() + size_t(i) * plane);
  set.pixels = std::move(gray);
  set.channels = 1;
}

struct MetricArgs {
  std::string checkpoint, images, real, features, device = "auto", cache, json;
  int64_t samples = 10000;
  int image_size = 32;
  int kid_subsets = 100, kid_subset_size = 1000;
};

// What is evaluated: a generator (eval mode, the evaluation noise of its run) or a folder.
// Filled in place: `source` refers to `trainer` or `folder`.
struct Evaluated {
  std::unique_ptr<GanTrainer> trainer;
  data::ImageSet folder;
  ImageSource source;
  std::string real_data, cache_dir, what;
  int size = 0, channels = 0;
  int64_t count = 0;
};

void evaluate_checkpoint(Context& ctx, const MetricArgs& a, Evaluated& e) {
  const SafeTensors st = read_safetensors(a.checkpoint);  // checksums verified
  const CheckpointInfo info = checkpoint_info(st, a.checkpoint);
  if (const std::string note = unverified_note(info, a.checkpoint); !note.empty())
    std::fprintf(stderr, "dgeval: note: %s\n", note.c_str());
  TrainOptions o = options_from_json(nlohmann::json::parse(info.config_json));
  e.trainer = std::make_unique<GanTrainer>(ctx, o.train);
  load_checkpoint(ctx, *e.trainer, st, a.checkpoint);
  e.source = generator_source(*e.trainer);
  e.size = o.train.model.image_size;
  e.channels = o.train.model.channels;
  if (e.real_data.empty()) e.real_data = o.data;
  // The run folder (<run>/checkpoints/<file>): where dgtrain cached the same statistics.
  if (e.cache_dir.empty()) e.cache_dir = fs::path(a.checkpoint).parent_path().parent_path().string();
  e.what = a.checkpoint + " (step " + std::to_string(info.step) + ")";
}

void evaluate_folder(const std::string& metric, const MetricArgs& a, Evaluated& e) {
  DG_CHECK(!e.real_data.empty(), "dgeval ", metric, " --images: give --real DATA, the set to compare with");
  e.folder = data::load_dataset(a.images, data::Format::folder, e.size);
  keep_one_plane_if_gray(e.folder);
  e.source = dataset_source(e.folder, e.size, e.folder.channels);
  e.channels = e.folder.channels;
  e.count = std::min<int64_t>(e.count, e.folder.count);
  e.what = a.images + " (" + std::to_string(e.count) + " images)";
}

// One metric of the generated features `gen` against the real set: printed, and its value
// (and spread) put in `out`.
struct MetricInputs {
  Context& ctx;
  FeatureNet& net;
  const Evaluated& e;
  const data::ImageSet& real;
  const FeatureSet& gen;
  Clock::time_point t0;
};

void fid_metric(const MetricInputs& m, nlohmann::json& out) {
  const Evaluated& e = m.e;
  std::string note;
  const std::string cache =
      e.cache_dir.empty() ? "" : real_stats_cache_path(e.cache_dir, m.net, m.real, e.size, e.channels, e.count);
  FeatureStats r;
  if (cache.empty()) {
    r = extract(m.ctx, m.net, dataset_source(m.real, e.size, e.channels), e.channels, e.size, e.count, Wanted{}).stats;
  } else {
    r = real_stats(m.ctx, m.net, m.real, e.size, e.channels, e.count, cache, &note);
    std::printf("dgeval: %s\n", note.c_str());
  }
  const double fid = frechet_distance(r, m.gen.stats);
  out["value"] = fid;
  std::printf("FID %.6g  (features %s; %lld generated vs %lld real from %s; %.1f s)\n", fid, m.net.name().c_str(),
              static_cast<long long>(e.count), static_cast<long long>(e.count), m.real.source.c_str(),
              seconds_since(m.t0));
}

void is_metric(const MetricInputs& m, nlohmann::json& out) {
  const ScoreWithSpread is = inception_score_of(m.gen);
  out["value"] = is.mean;
  out["std"] = is.std;
  std::printf("IS %.6g +- %.3g  (features %s; %lld samples, %d splits; %.1f s)\n", is.mean, is.std,
              m.net.name().c_str(), static_cast<long long>(m.e.count), std::min<int>(kIsSplits, int(m.e.count)),
              seconds_since(m.t0));
}

void kid_metric(const MetricInputs& m, const MetricArgs& a, nlohmann::json& out) {
  const Evaluated& e = m.e;
  const FeatureSet r = extract(m.ctx, m.net, dataset_source(m.real, e.size, e.channels), e.channels, e.size,
                               std::min<int64_t>(e.count, m.real.count), Wanted{false, true, false});
  const ScoreWithSpread kid = kernel_inception_distance(r.features.data(), r.count, m.gen.features.data(), m.gen.count,
                                                        m.gen.dim, a.kid_subsets, a.kid_subset_size);
  out["value"] = kid.mean;
  out["std"] = kid.std;
  std::printf("KID %.6g +- %.3g  (features %s; %lld generated vs %lld real, %d subsets; %.1f s)\n", kid.mean, kid.std,
              m.net.name().c_str(), static_cast<long long>(e.count), static_cast<long long>(r.count), a.kid_subsets,
              seconds_since(m.t0));
}

void append_json_line(const std::string& path, const nlohmann::json& line) {
  FILE* f = std::fopen(path.c_str(), "a");
  DG_CHECK(f, path, ": cannot open for appending");
  std::fprintf(f, "%s\n", line.dump().c_str());
  std::fclose(f);
}

int metric_command(const std::string& metric, const MetricArgs& a) {
  DG_CHECK(a.checkpoint.empty() != a.images.empty(), "dgeval ", metric, ": give exactly one of --checkpoint or --images");
  const auto t0 = Clock::now();
  Context ctx = make_context(a.device);
  std::unique_ptr<FeatureNet> net = load_feature_net(ctx, a.features);
  Evaluated e;
  e.real_data = a.real;
  e.cache_dir = a.cache;
  e.size = a.image_size;
  e.count = a.samples;
  if (!a.checkpoint.empty())
    evaluate_checkpoint(ctx, a, e);
  else
    evaluate_folder(metric, a, e);
  const data::ImageSet real = data::load_dataset(e.real_data, data::Format::automatic, e.size);

  nlohmann::json out = {{"metric", metric}, {"features", net->name()}, {"samples", e.count}, {"evaluated", e.what},
                        {"real", real.source}};
  const bool need_stats = metric == "fid", need_probs = metric == "is", need_features = metric == "kid";
  const FeatureSet gen = extract(ctx, *net, e.source, e.channels, e.size, e.count,
                                 Wanted{need_stats, need_features, need_probs});
  const MetricInputs inputs{ctx, *net, e, real, gen, t0};
  if (metric == "fid")
    fid_metric(inputs, out);
  else if (metric == "is")
    is_metric(inputs, out);
  else
    kid_metric(inputs, a, out);
  out["seconds"] = seconds_since(t0);
  if (!a.json.empty()) append_json_line(a.json, out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dgeval: FID, IS and KID with dg's feature networks; trains the feature classifier", "dgeval"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();

  ClassifierArgs c;
  CLI::App* tc = app.add_subcommand("train-classifier", "train the small feature classifier on a labelled data set");
  tc->add_option("--data", c.data, "labelled data set: a path or fashion-mnist");
  tc->add_option("--test-data", c.test_data, "its test set (default: the data set's t10k split, else the last 10%)");
  tc->add_option("--image-size", c.image_size, "input size (that of the generators it will judge)")
      ->check(CLI::IsMember({32, 64, 128}));
  tc->add_option("--channels", c.channels, "input channels: 0 = the data's, 1, 3")->check(CLI::IsMember({0, 1, 3}));
  tc->add_option("--epochs", c.train.epochs, "passes over the data")->check(CLI::Range(1, 1000));
  tc->add_option("--batch-size", c.train.batch_size, "images per step")->check(CLI::Range(2, 65536));
  tc->add_option("--lr", c.train.lr, "Adam learning rate (decays linearly to 0)")->check(CLI::Range(1e-6f, 1.0f));
  tc->add_option("--seed", c.train.seed, "seed of the weights and the data order");
  tc->add_option("--out", c.out, "where to write the classifier (safetensors)");
  tc->add_option("--device", c.device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));

  MetricArgs m;
  std::string metric;
  for (const char* name : {"fid", "is", "kid"}) {
    CLI::App* s = app.add_subcommand(name, std::string(name == std::string("fid")  ? "Frechet distance"
                                                       : name == std::string("is") ? "Inception Score"
                                                                                   : "Kernel Inception Distance") +
                                               " of a generator checkpoint or an image folder");
    s->add_option("--checkpoint", m.checkpoint, "a dgtrain checkpoint (its generator, in eval mode)")->check(CLI::ExistingFile);
    s->add_option("--images", m.images, "a folder of PNG/JPEG/BMP images")->check(CLI::ExistingDirectory);
    s->add_option("--features", m.features, "feature network: a dgeval classifier or converted FID Inception weights")
        ->required()
        ->check(CLI::ExistingFile);
    s->add_option("--real", m.real, "the real data set (default: the checkpoint's training data)");
    s->add_option("--samples", m.samples, "generated (and real) samples")->check(CLI::Range(int64_t(2), int64_t(1) << 24));
    s->add_option("--image-size", m.image_size, "with --images: the size images and real data are brought to")
        ->check(CLI::Range(8, 1024));
    s->add_option("--cache", m.cache, "folder for cached real statistics (default: the checkpoint's run folder)");
    s->add_option("--device", m.device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    s->add_option("--json", m.json, "append the result as one JSON line to this file");
    if (std::string(name) == "kid") {
      s->add_option("--subsets", m.kid_subsets, "KID subsets")->check(CLI::Range(1, 100000));
      s->add_option("--subset-size", m.kid_subset_size, "samples per KID subset")->check(CLI::Range(2, 1 << 20));
    }
    s->callback([&metric, name] { metric = name; });
  }
  CLI11_PARSE(app, argc, argv);
  try {
    if (tc->parsed()) return train_classifier_command(c);
    return metric_command(metric, m);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dgeval: error: %s\n", e.what());
    return 1;
  }
}
