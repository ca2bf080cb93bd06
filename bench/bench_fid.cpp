#include "bench/bench_fid.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "engine/metrics/fid.h"
#include "kernels/random/random.h"
#include "engine/param_io.h"
#include "engine/safetensors.h"
#include "models/classifier.h"
#include "models/inception.h"
#include "tools/run/evaluate.h"

namespace fs = std::filesystem;

namespace dg {

nlohmann::json FidBenchResult::to_json() const {
  return {{"bench", "fid"},          {"network", network},   {"samples", samples}, {"generated_s", generated_s},
          {"real_s", real_s},        {"frechet_s", frechet_s}, {"total_s", total_s()}};
}

// Made-up weights, written the way a user's file would be: a dgeval classifier, and the
// Inception under the converter's names.
static std::string write_weights(Context& ctx, const std::string& kind, const fs::path& dir) {
  const std::string path = (dir / (kind + ".safetensors")).string();
  if (kind == "dg-classifier") {
    Classifier c(ctx, ClassifierConfig{}, false);
    c.init_weights(ctx, 1);
    c.save(ctx, path, {{"dataset", "dgbench (made-up weights)"}});
  } else {
    InceptionFid net(ctx);
    init_parameters(ctx, net.store(), 1, 0);
    SafeTensors st;
    save_store(ctx, net.store(), StorePart::state, "", st);
    write_safetensors(path, st);
  }
  return path;
}

void bench_fid(const ContextOptions& copt, int64_t samples, const std::vector<std::string>& networks,
               const std::function<void(const FidBenchResult&)>& report) {
  using clock = std::chrono::steady_clock;
  const fs::path dir = fs::temp_directory_path() / ("dgbench_fid_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const std::string& kind : networks) {
    DG_CHECK(kind == "dg-classifier" || kind == "inception-v3-fid", "dgbench fid --network: '", kind,
             "' (use dg-classifier, inception-v3-fid)");
    Context ctx(copt);
    std::unique_ptr<FeatureNet> net = load_feature_net(ctx, write_weights(ctx, kind, dir));
    TrainConfig cfg;  // dcgan32, one channel: Fashion-MNIST's generator
    GanTrainer trainer(ctx, cfg);
    trainer.init_weights();
    // "Real" images: normal noise (std 0.5) made on the device, so no file reading is timed.
    const ImageSource real = [](Context& c, int64_t first, Tensor out) {
      fill_normal(c, out, 0.0f, 0.5f, 7, 0, uint64_t(first) * uint64_t(out.numel() / out.n()));
    };
    FidBenchResult r;
    r.network = kind;
    r.samples = samples;
    auto t = clock::now();
    auto lap = [&] {
      ctx.synchronize();
      const double s = std::chrono::duration<double>(clock::now() - t).count();
      t = clock::now();
      return s;
    };
    const FeatureSet g = extract(ctx, *net, generator_source(trainer), 1, 32, samples, Wanted{});
    r.generated_s = lap();
    const FeatureSet x = extract(ctx, *net, real, 1, 32, samples, Wanted{});
    r.real_s = lap();
    volatile double fid = frechet_distance(x.stats, g.stats);
    (void)fid;
    r.frechet_s = lap();
    report(r);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace dg
