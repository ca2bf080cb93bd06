// The feature classifier (models/classifier.h): it learns a small synthetic labelled set,
// saves and reloads bit for bit, refuses files that are not classifiers (a GAN checkpoint,
// a truncated file, a missing tensor, a wrong shape) and unlabelled data, each with a
// message naming the file and the problem.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "engine/safetensors.h"
#include "models/checkpoint.h"
#include "models/classifier.h"
#include "tests/classifier_golden.h"
#include "kernels/random/random.h"

using namespace dg;

namespace {

// `count` 20x20 gray images of 4 classes, each a distinct pattern with a random phase,
// contrast and noise: 0 horizontal stripes, 1 vertical stripes, 2 a bright square at a
// random place on a dark ground, 3 a checkerboard. Stored at 20x20 so loading resizes
// them to the classifier's 32x32, as real data sets are.
data::ImageSet synthetic_set(int count, uint64_t seed) {
  data::ImageSet s;
  s.count = count;
  s.channels = 1;
  s.height = s.width = 20;
  s.source = "synthetic";
  s.pixels.resize(size_t(count) * 400);
  s.labels.resize(size_t(count));
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&] {  // a small LCG: uniform in [0, 1)
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return double(state >> 11) / double(1ull << 53);
  };
  for (int i = 0; i < count; i++) {
    const int label = i % 4;
    s.labels[i] = label;
    const int phase = int(next() * 4), px = int(next() * 12), py = int(next() * 12);
    const double contrast = 0.5 + 0.5 * next();
    for (int y = 0; y < 20; y++)
      for (int x = 0; x < 20; x++) {
        bool on = false;
        switch (label) {
          case 0: on = ((y + phase) / 2) % 2 == 0; break;
          case 1: on = ((x + phase) / 2) % 2 == 0; break;
          case 2: on = x >= px && x < px + 8 && y >= py && y < py + 8; break;
          default: on = ((x + phase) / 2 + (y + phase) / 2) % 2 == 0; break;
        }
        double v = 127.5 + (on ? 1 : -1) * 100 * contrast + 40 * (next() - 0.5);
        s.pixels[size_t(i) * 400 + y * 20 + x] = uint8_t(std::fmin(255.0, std::fmax(0.0, v)));
      }
  }
  return s;
}

ClassifierConfig small_config() {
  ClassifierConfig c;
  c.classes = 4;
  c.width = 8;
  return c;
}

std::vector<float> download(Context& ctx, const Tensor& t) {
  std::vector<float> v(size_t(t.numel()));
  ctx.download(t, v.data());
  return v;
}

std::string temp_path(const std::string& name) { return std::string("/tmp/dg_test_classifier_") + name; }

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the classifier learns 4 synthetic patterns to high accuracy in 3 epochs") {
  Context ctx;
  Classifier net(ctx, small_config(), true);
  net.init_weights(ctx, 7);
  CHECK(net.feature_dim() == 32);
  CHECK(net.classes() == 4);
  const data::ImageSet train = synthetic_set(512, 1), test = synthetic_set(128, 2);
  CHECK(classifier_accuracy(ctx, net, test) < 0.6);  // untrained: about chance
  ClassifierTrainConfig tc;
  tc.epochs = 3;
  tc.batch_size = 32;
  tc.lr = 2e-3f;
  std::vector<std::string> lines;
  const ClassifierReport r = train_classifier(ctx, net, train, test, tc, [&](const std::string& l) {
    lines.push_back(l);
    MESSAGE(l);
  });
  CHECK(lines.size() == 3);
  CHECK(r.epochs == 3);
  CHECK(r.seconds > 0);
  CHECK(r.final_train_loss < 0.3);
  CHECK(r.test_accuracy >= 0.95);
  CHECK(classifier_accuracy(ctx, net, test) == r.test_accuracy);
}

TEST_CASE("classifier save / load: bit-identical features and logits, metadata kept") {
  Context ctx;
  Classifier net(ctx, small_config(), true);
  net.init_weights(ctx, 3);
  // A few steps so the BN running statistics and biases are not at their initial values.
  const data::ImageSet train = synthetic_set(64, 5);
  ClassifierTrainConfig tc;
  tc.epochs = 1;
  tc.batch_size = 16;
  train_classifier(ctx, net, train, train, tc, {});
  const std::string path = temp_path("roundtrip.safetensors");
  net.save(ctx, path, {{"dataset", "synthetic"}, {"test_accuracy", "0.5"}});
  CHECK(net.metadata().empty());

  auto loaded = Classifier::load(ctx, path);
  CHECK(loaded->config().channels == 1);
  CHECK(loaded->config().image_size == 32);
  CHECK(loaded->config().classes == 4);
  CHECK(loaded->config().width == 8);
  CHECK(!loaded->training());
  const auto meta = loaded->metadata();
  CHECK(meta.at("format") == "dg-classifier");
  CHECK(meta.at("dataset") == "synthetic");
  CHECK(meta.at("test_accuracy") == "0.5");

  const int N = 5;
  Tensor images = ctx.alloc({N, 1, 32, 32});
  fill_normal(ctx, images, 0.0f, 0.5f, 11, 0);
  Tensor f1 = ctx.alloc({N, 32}), l1 = ctx.alloc({N, 4}), f2 = ctx.alloc({N, 32}), l2 = ctx.alloc({N, 4});
  net.forward(ctx, images, f1, l1);
  loaded->forward(ctx, images, f2, l2);
  CHECK(download(ctx, f1) == download(ctx, f2));
  CHECK(download(ctx, l1) == download(ctx, l2));
  // Either output alone gives the same values.
  Tensor l3 = ctx.alloc({N, 4});
  loaded->forward(ctx, images, Tensor{}, l3);
  CHECK(download(ctx, l3) == download(ctx, l1));
  std::remove(path.c_str());
}

TEST_CASE("classifier load: a GAN checkpoint, a truncated file, a missing tensor, a wrong shape") {
  Context ctx;
  // A real GAN checkpoint.
  TrainConfig t;
  t.model.image_size = 32;
  t.model.nz = 4;
  t.model.ngf = 2;
  t.model.ndf = 2;
  t.batch_size = 2;
  GanTrainer gan(ctx, t);
  gan.init_weights();
  const std::string ckpt = temp_path("gan.safetensors");
  save_checkpoint(ctx, gan, ckpt, "{}");
  std::string m = error_of([&] { Classifier::load(ctx, ckpt); });
  CHECK(m.find(ckpt) != std::string::npos);
  CHECK(m.find("not a dg classifier") != std::string::npos);
  CHECK(m.find("dg-checkpoint") != std::string::npos);

  Classifier net(ctx, small_config(), false);
  net.init_weights(ctx, 1);
  const std::string good = temp_path("good.safetensors");
  net.save(ctx, good, {});
  // Truncated.
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string cut = temp_path("truncated.safetensors");
  {
    std::ofstream out(cut, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  m = error_of([&] { Classifier::load(ctx, cut); });
  CHECK(m.find(cut) != std::string::npos);
  // A missing tensor.
  SafeTensors st = read_safetensors(good);
  st.tensors.erase("fc2.bias");
  const std::string missing = temp_path("missing.safetensors");
  write_safetensors(missing, st);
  m = error_of([&] { Classifier::load(ctx, missing); });
  CHECK(m.find(missing) != std::string::npos);
  CHECK(m.find("fc2.bias") != std::string::npos);
  // Metadata that promises another width: every shape is wrong.
  st = read_safetensors(good);
  st.metadata["width"] = "16";
  const std::string wrong = temp_path("wrong.safetensors");
  write_safetensors(wrong, st);
  m = error_of([&] { Classifier::load(ctx, wrong); });
  CHECK(m.find(wrong) != std::string::npos);
  CHECK(m.find("main.0.weight") != std::string::npos);
  // Bad metadata values.
  st.metadata["width"] = "eight";
  write_safetensors(wrong, st);
  m = error_of([&] { Classifier::load(ctx, wrong); });
  CHECK(m.find("width = 'eight' is not an integer") != std::string::npos);
  st.metadata["width"] = "8";
  st.metadata["image_size"] = "48";
  write_safetensors(wrong, st);
  m = error_of([&] { Classifier::load(ctx, wrong); });
  CHECK(m.find("image_size 48 is not supported") != std::string::npos);
  for (const std::string& p : {ckpt, good, cut, missing, wrong}) std::remove(p.c_str());
}

TEST_CASE("classifier training refuses unlabelled data, labels out of range and an inference-only net") {
  Context ctx;
  Classifier net(ctx, small_config(), true);
  net.init_weights(ctx, 1);
  data::ImageSet train = synthetic_set(32, 1), test = synthetic_set(8, 2);
  ClassifierTrainConfig tc;
  tc.epochs = 1;
  tc.batch_size = 8;
  data::ImageSet unlabelled = train;
  unlabelled.labels.clear();
  std::string m = error_of([&] { train_classifier(ctx, net, unlabelled, test, tc, {}); });
  CHECK(m.find("synthetic: the training set has no labels") != std::string::npos);
  m = error_of([&] { train_classifier(ctx, net, train, unlabelled, tc, {}); });
  CHECK(m.find("the test set has no labels") != std::string::npos);
  data::ImageSet bad = train;
  bad.labels[5] = 4;
  m = error_of([&] { train_classifier(ctx, net, bad, test, tc, {}); });
  CHECK(m.find("label 4 of image 5 is outside [0, 4)") != std::string::npos);
  data::ImageSet rgb = train;
  rgb.channels = 3;
  rgb.pixels.resize(rgb.pixels.size() * 3);
  m = error_of([&] { train_classifier(ctx, net, rgb, test, tc, {}); });
  CHECK(m.find("synthetic") != std::string::npos);
  Classifier frozen(ctx, small_config(), false);
  m = error_of([&] { train_classifier(ctx, frozen, train, test, tc, {}); });
  CHECK(m.find("built for inference") != std::string::npos);
}

TEST_CASE("classifier shapes for 64 and 128 pixel RGB inputs") {
  Context ctx;
  for (int size : {64, 128}) {
    ClassifierConfig c;
    c.channels = 3;
    c.image_size = size;
    c.classes = 3;
    c.width = 4;
    Classifier net(ctx, c, false);
    net.init_weights(ctx, 2);
    Tensor images = ctx.alloc({2, 3, size, size});
    fill_normal(ctx, images, 0.0f, 0.5f, 1, 0);
    Tensor f = ctx.alloc({2, 16}), l = ctx.alloc({2, 3});
    net.forward(ctx, images, f, l);
    for (float v : download(ctx, l)) CHECK(std::isfinite(v));
    CHECK(net.store().view("fc1.weight").shape == Shape{16, 16 * 16});
  }
  ClassifierConfig bad;
  bad.image_size = 48;
  CHECK_THROWS_WITH_AS(Classifier(ctx, bad, false), doctest::Contains("image_size 48 is not supported"), Error);
}

TEST_CASE("linear + softmax cross-entropy match PyTorch (golden file)") {
  dg::test::check_linear_softmax_golden(ContextOptions{});
}

TEST_CASE("one classifier training step and the eval outputs after it match PyTorch (golden file)") {
  dg::test::check_classifier_step_golden(ContextOptions{});
}
