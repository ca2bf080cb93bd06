// dgeval and dgtrain's evaluation as a user runs them: the binaries in subprocesses.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include <stb/stb_image_write.h>

#include <cmath>

#include "data/read_idx.h"
#include "tests/damage.h"
#include "tests/dgtrain_runner.h"
#include "tests/eval_fixture.h"

namespace fs = std::filesystem;
using namespace dg::test;

namespace {

std::vector<nlohmann::json> eval_lines(const std::string& metrics) {
  std::vector<nlohmann::json> v;
  std::ifstream f(metrics);
  for (std::string line; std::getline(f, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("fid")) v.push_back(j);
  }
  return v;
}

}  // namespace

TEST_CASE("dgeval train-classifier learns a labelled set, uses its t10k split and saves the network") {
  Fixture fx;
  CHECK(fs::exists(fx.classifier));
  const dg::SafeTensors st = dg::read_safetensors(fx.classifier);
  CHECK(st.meta("format") == "dg-classifier");
  CHECK(st.meta("test_set").find("t10k-images-idx3-ubyte.gz") != std::string::npos);
  const double acc = std::stod(st.meta("test_accuracy"));
  CHECK(acc >= 0.9);  // three bands over noise: easy to tell apart
  // Unlabelled data is refused, naming it.
  fs::create_directories(fx.dir.path / "nolabels");
  write_idx_gz((fx.dir.path / "nolabels").string(), 20);
  const Result r = dgeval("train-classifier --device cpu --data " + (fx.dir.path / "nolabels").string() + " --out " +
                          fx.dir.path.string() + "/x.safetensors");
  CHECK(r.code != 0);
  CHECK(r.output.find("has no labels") != std::string::npos);
}

TEST_CASE("dgtrain --eval-every logs FID and IS, keeps the best checkpoint, and dgeval reproduces the last FID") {
  Fixture fx;
  const std::string out = fx.dir.path.string() + "/runs";
  const Result t = dgtrain(tiny(out, "ev") + " --data " + fx.data + " --steps 6 --eval-every 3 --eval-samples 40" +
                           " --eval-features " + fx.classifier + " --keep-checkpoints 1 --checkpoint-every 1");
  INFO(t.output);
  REQUIRE(t.code == 0);
  CHECK(t.output.find("FID every 3 steps on 40 samples") != std::string::npos);
  const std::string run = out + "/ev";
  const auto evals = eval_lines(run + "/metrics.jsonl");
  REQUIRE(evals.size() == 2);
  CHECK(evals[0]["step"] == 3);
  CHECK(evals[1]["step"] == 6);
  for (const auto& e : evals) {
    CHECK(e["fid"].get<double>() >= 0);
    CHECK(e["is"].get<double>() >= 1.0);
    CHECK(e["is"].get<double>() <= 3.0 + 1e-9);  // at most the class count
    CHECK(e["features"].get<std::string>().find("dg-classifier") == 0);
  }
  // Real statistics were cached in the run folder; the best checkpoint survived pruning.
  int stats_files = 0;
  for (const auto& f : fs::directory_iterator(run))
    stats_files += f.path().filename().string().rfind("real-stats-", 0) == 0;
  CHECK(stats_files == 1);
  REQUIRE(fs::exists(run + "/checkpoints/best.safetensors"));
  const int64_t best_step = evals[1]["best_step"];
  CHECK(dg::read_safetensors(run + "/checkpoints/best.safetensors").meta("step") == std::to_string(best_step));
  int step_files = 0;
  for (const auto& f : fs::directory_iterator(run + "/checkpoints"))
    step_files += f.path().filename().string().rfind("step_", 0) == 0;
  CHECK(step_files == 1);  // --keep-checkpoints 1

  // dgeval from the last checkpoint: the same generated images, the same cached real statistics.
  const std::string json = fx.dir.path.string() + "/fid.jsonl";
  const Result e = dgeval("fid --device cpu --checkpoint " + run + "/checkpoints/step_000006.safetensors --features " +
                          fx.classifier + " --samples 40 --json " + json);
  INFO(e.output);
  REQUIRE(e.code == 0);
  CHECK(e.output.find("real statistics from") != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(read_text(json));
  CHECK(j["value"].get<double>() == doctest::Approx(evals[1]["fid"].get<double>()).epsilon(1e-9));
  CHECK(j["features"] == evals[1]["features"]);

  // IS and KID run on the same checkpoint; IS equals the logged one.
  const Result is = dgeval("is --device cpu --checkpoint " + run + "/checkpoints/step_000006.safetensors --features " +
                           fx.classifier + " --samples 40 --json " + json);
  INFO(is.output);
  REQUIRE(is.code == 0);
  std::istringstream lines(read_text(json));
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  CHECK(nlohmann::json::parse(second)["value"].get<double>() ==
        doctest::Approx(evals[1]["is"].get<double>()).epsilon(1e-9));
  const Result kid = dgeval("kid --device cpu --checkpoint " + run + "/checkpoints/step_000006.safetensors --features " +
                            fx.classifier + " --samples 40 --subsets 5 --subset-size 20");
  INFO(kid.output);
  CHECK(kid.code == 0);
  CHECK(kid.output.find("KID ") == 0);

  // A flipped bit in the checkpoint, or in the feature network's file, is refused by name.
  const std::string ckpt = fx.dir.path.string() + "/damaged.safetensors";
  const std::string features = fx.dir.path.string() + "/damaged-classifier.safetensors";
  fs::copy_file(run + "/checkpoints/step_000006.safetensors", ckpt);
  fs::copy_file(fx.classifier, features);
  flip_bit(ckpt, tensor_middle(ckpt, "D0.main.0.weight"), 2);
  const Result bad = dgeval("fid --device cpu --checkpoint " + ckpt + " --features " + fx.classifier + " --samples 40");
  INFO(bad.output);
  CHECK(bad.code == 1);
  CHECK(bad.output.find(ckpt + ": tensor 'D0.main.0.weight' fails its checksum") != std::string::npos);
  const std::string weight = tensor_named(features, "", "weight");
  flip_bit(features, tensor_middle(features, weight), 5);
  const Result bad_features = dgeval("fid --device cpu --checkpoint " + run + "/checkpoints/step_000006.safetensors" +
                                     " --features " + features + " --samples 40");
  INFO(bad_features.output);
  CHECK(bad_features.code == 1);
  CHECK(bad_features.output.find(features + ": tensor '" + weight + "' fails its checksum") != std::string::npos);
}

TEST_CASE("dgeval on a folder of images: gray PNGs against the real set, color PNGs refused by a gray classifier") {
  Fixture fx;
  const std::string gray = fx.dir.path.string() + "/gray", color = fx.dir.path.string() + "/color";
  fs::create_directories(gray);
  fs::create_directories(color);
  // The first 12 training images as gray PNGs: the FID against those same 12 real images is 0.
  const dg::data::ImageSet set = dg::data::read_idx(fx.data);
  for (int i = 0; i < 12; i++) {
    const std::string p = gray + "/g" + std::to_string(100 + i) + ".png";
    REQUIRE(stbi_write_png(p.c_str(), 28, 28, 1, set.pixels.data() + size_t(i) * 784, 28) != 0);
  }
  Result r = dgeval("fid --device cpu --images " + gray + " --real " + fx.data + " --image-size 28 --samples 12 --features " +
                    fx.classifier);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("FID ") == 0);
  // The same images give the same features, so FID is 0 up to rounding. With 12 samples of
  // 128-d features the covariances have rank 11: the 117 zero eigenvalues of DESIGN §7's
  // matrix come out as +-1e-12 and their square roots add up to ~1e-4 (numpy does the same).
  const double fid = std::stod(r.output.substr(4));
  CHECK(std::fabs(fid) < 1e-3);
  write_png_folder(color, 12, 28);
  r = dgeval("fid --device cpu --images " + color + " --real " + fx.data + " --samples 12 --features " + fx.classifier);
  CHECK(r.code != 0);
  CHECK(r.output.find("do not fit a classifier of 1 channel") != std::string::npos);
}

TEST_CASE("--target-fid records when it is reached, --early-stop stops and names the best") {
  Fixture fx;
  const std::string out = fx.dir.path.string() + "/runs";
  // Any FID is below 1e8: reached at the first evaluation.
  const Result t = dgtrain(tiny(out, "target") + " --data " + fx.data + " --steps 4 --eval-every 2 --eval-samples 20" +
                           " --eval-features " + fx.classifier + " --target-fid 1e8");
  INFO(t.output);
  REQUIRE(t.code == 0);
  const auto evals = eval_lines(out + "/target/metrics.jsonl");
  REQUIRE(evals.size() == 2);
  REQUIRE(evals[0].contains("target_fid_reached"));
  CHECK(evals[0]["target_fid_reached"]["step"] == 2);
  CHECK_FALSE(evals[1].contains("target_fid_reached"));  // recorded once
  CHECK(t.output.find("--target-fid 1e+08 reached") != std::string::npos);

  // Patience 1 with an evaluation every step: the run stops at the first evaluation that is
  // not a new best, before --steps, with a checkpoint there and the best kept.
  const Result s = dgtrain(tiny(out, "stop") + " --data " + fx.data + " --steps 40 --eval-every 1 --eval-samples 20" +
                           " --eval-features " + fx.classifier + " --early-stop 1 --lr-g 0.05 --lr-d 0.05");
  INFO(s.output);
  REQUIRE(s.code == 0);
  const auto se = eval_lines(out + "/stop/metrics.jsonl");
  REQUIRE(se.size() >= 2);
  const auto& last = se.back();
  CHECK(last["fid"].get<double>() >= last["best_fid"].get<double>());
  CHECK(last["step"].get<int64_t>() < 40);
  CHECK(s.output.find("stopping early") != std::string::npos);
  const std::string best = out + "/stop/checkpoints/best.safetensors";
  REQUIRE(fs::exists(best));
  CHECK(dg::read_safetensors(best).meta("step") == std::to_string(last["best_step"].get<int64_t>()));
}

TEST_CASE("evaluation flags that need each other, and a wrong feature file, are clear errors") {
  TempDir dir;
  write_idx_gz(dir.path.string(), 8);
  const std::string base = tiny(dir.path.string(), "x") + " --data " + dir.path.string() + " --steps 2";
  Result r = dgtrain(base + " --eval-every 1");
  CHECK(r.code != 0);
  CHECK(r.output.find("--eval-every needs --eval-features") != std::string::npos);
  r = dgtrain(base + " --early-stop 3");
  CHECK(r.code != 0);
  CHECK(r.output.find("--early-stop 3 needs --eval-every") != std::string::npos);
  // A GAN checkpoint is not a feature network.
  REQUIRE(dgtrain(base).code == 0);
  const std::string ckpt = dir.path.string() + "/x/checkpoints/step_000002.safetensors";
  r = dgtrain(tiny(dir.path.string(), "y") + " --data " + dir.path.string() + " --steps 2 --eval-every 1 --eval-features " + ckpt);
  CHECK(r.code != 0);
  CHECK(r.output.find("not a feature network") != std::string::npos);
  r = dgeval("fid --device cpu --checkpoint " + ckpt + " --features " + ckpt);
  CHECK(r.code != 0);
  CHECK(r.output.find("not a feature network") != std::string::npos);
}
