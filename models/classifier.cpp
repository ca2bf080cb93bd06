// The feature classifier: construction, forward (eval), one training step, save/load, and
// the training loop. Architecture and names: models/classifier.h.
#include "models/classifier.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "data/data_error.h"
#include "data/preprocess.h"
#include "data/shuffle.h"
#include "engine/param_io.h"
#include "engine/safetensors.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/linear/linear.h"
#include "kernels/softmax/softmax.h"

namespace dg {

static const Activation kLeaky{Act::leaky_relu, 0.2f};

void validate(const ClassifierConfig& c) {
  DG_CHECK(c.image_size == 32 || c.image_size == 64 || c.image_size == 128, "classifier: image_size ", c.image_size,
           " is not supported (accepted: 32, 64, 128)");
  DG_CHECK(c.channels == 1 || c.channels == 3, "classifier: channels ", c.channels, " (accepted: 1, 3)");
  DG_CHECK(c.classes >= 2 && c.classes <= 100000, "classifier: classes ", c.classes, " (need at least 2)");
  DG_CHECK(c.width >= 1 && c.width <= 4096, "classifier: width ", c.width, " is out of range 1..4096");
}

Classifier::Classifier(Context& ctx, const ClassifierConfig& cfg, bool training) : cfg_(cfg), training_(training) {
  validate(cfg);
  net_.name = kNetwork;
  net_.in_channels = cfg.channels;
  net_.in_size = cfg.image_size;
  // conv (main.i) + BN (main.i+1) + LeakyReLU (main.i+2), as nn.Sequential would number them.
  int index = 0, in = cfg.channels, size = cfg.image_size, layer = 0;
  while (size > 4) {
    LayerSpec l;
    l.in_channels = in;
    l.out_channels = cfg.width << std::min(layer, 2);
    l.kernel = 4;
    l.geom = {2, 1};
    l.batchnorm = true;
    l.act = kLeaky;
    l.out_size = size / 2;
    l.conv_name = "main." + std::to_string(index) + ".weight";
    l.bn_prefix = "main." + std::to_string(index + 1);
    index += 3;
    net_.layers.push_back(l);
    in = l.out_channels;
    size /= 2;
    layer++;
  }
  declare_parameters(net_);
  const int F = feature_dim();
  net_.params.add("fc1.weight", {F, in * 16}, ParamKind::linear_weight);
  net_.params.add("fc1.bias", {F}, ParamKind::linear_bias);
  net_.params.add("fc2.weight", {cfg.classes, F}, ParamKind::linear_weight);
  net_.params.add("fc2.bias", {cfg.classes}, ParamKind::linear_bias);
  net_.params.allocate(ctx, training);
}

void Classifier::init_weights(Context& ctx, uint64_t seed) { init_parameters(ctx, net_.params, seed, 0); }

Classifier::Head Classifier::head_forward(Context& ctx, const Tensor& trunk_out) {
  const ParamStore& p = net_.params;
  const int N = trunk_out.n(), F = feature_dim();
  Head h;
  h.flat = trunk_out.reshaped({N, int(trunk_out.numel() / N)});  // (N, 4w * 4 * 4)
  h.pre = ctx.alloc({N, F});
  linear_forward(ctx, h.flat, p.param("fc1.weight"), p.param("fc1.bias"), h.pre);
  h.features = ctx.alloc({N, F});
  activation_forward(ctx, kLeaky, h.pre, h.features);
  h.logits = ctx.alloc({N, cfg_.classes});
  linear_forward(ctx, h.features, p.param("fc2.weight"), p.param("fc2.bias"), h.logits);
  return h;
}

void Classifier::forward(Context& ctx, const Tensor& images, Tensor features, Tensor logits) {
  const int N = images.n();
  if (features.data) check_shape(features, {N, feature_dim()}, "classifier features");
  if (logits.data) check_shape(logits, {N, cfg_.classes}, "classifier logits");
  ScratchScope scratch(ctx);
  Trace trunk = network_forward(ctx, net_, images, Mode::eval);
  Head h = head_forward(ctx, trunk.output());
  if (features.data) copy(ctx, h.features, features);
  if (logits.data) copy(ctx, h.logits, logits);
}

void Classifier::train_step(Context& ctx, const Tensor& images, const Tensor& labels, const AdamConfig& adam,
                            int64_t step, Tensor loss, Tensor correct) {
  DG_CHECK(training_, "classifier: train_step on a classifier built for inference (no gradients)");
  const ParamStore& p = net_.params;
  ScratchScope scratch(ctx);
  p.zero_grads(ctx);
  Trace trunk = network_forward(ctx, net_, images, Mode::train);
  Head h = head_forward(ctx, trunk.output());
  Tensor dlogits = ctx.alloc(h.logits.shape);                            // (N, classes)
  softmax_cross_entropy(ctx, h.logits, labels, loss, dlogits, correct);
  Tensor dfeatures = ctx.alloc(h.features.shape);                        // (N, F)
  linear_backward(ctx, h.features, p.param("fc2.weight"), dlogits, dfeatures, p.grad("fc2.weight"),
                  p.grad("fc2.bias"));
  activation_backward(ctx, kLeaky, h.pre, dfeatures, dfeatures);         // in place: now d pre
  Tensor dflat = ctx.alloc(h.flat.shape);                                // (N, 64w)
  linear_backward(ctx, h.flat, p.param("fc1.weight"), dfeatures, dflat, p.grad("fc1.weight"), p.grad("fc1.bias"));
  network_backward(ctx, net_, trunk, dflat.reshaped(trunk.output().shape), Tensor{}, true);
  adam_step(ctx, adam, StepIndex{step - 1}, p.params(), p.grads(), p.exp_avg(), p.exp_avg_sq());
}

// ---- files ----

static const char* const kConfigKeys[] = {"channels", "image_size", "classes", "width"};

void Classifier::save(Context& ctx, const std::string& path, const std::map<std::string, std::string>& meta) {
  SafeTensors st;
  save_store(ctx, net_.params, StorePart::state, "", st);
  st.metadata = meta;  // the format keys below take precedence over same-named entries
  st.metadata["format"] = kNetwork;
  st.metadata["format_version"] = std::to_string(kFormatVersion);
  st.metadata["channels"] = std::to_string(cfg_.channels);
  st.metadata["image_size"] = std::to_string(cfg_.image_size);
  st.metadata["classes"] = std::to_string(cfg_.classes);
  st.metadata["width"] = std::to_string(cfg_.width);
  write_safetensors(path, st);
}

std::unique_ptr<Classifier> Classifier::load(Context& ctx, const std::string& path) {
  return load(ctx, read_safetensors(path), path);
}

std::unique_ptr<Classifier> Classifier::load(Context& ctx, const SafeTensors& st, const std::string& path) {
  auto find = [&](const std::string& key) -> const std::string* {
    auto it = st.metadata.find(key);
    return it == st.metadata.end() ? nullptr : &it->second;
  };
  const std::string* format = find("format");
  DG_CHECK(format, path, ": not a dg classifier (no format metadata)");
  DG_CHECK(*format == kNetwork, path, ": not a dg classifier (its format is '", *format, "', expected '", kNetwork,
           "')");
  const std::string* version = find("format_version");
  DG_CHECK(version && *version == std::to_string(kFormatVersion), path, ": classifier format version '",
           version ? *version : "", "' is not supported (this dg reads ", kFormatVersion, ")");
  int values[4];
  for (int i = 0; i < 4; i++) {
    const std::string* v = find(kConfigKeys[i]);
    DG_CHECK(v, path, ": classifier metadata lacks '", kConfigKeys[i], "'");
    size_t used = 0;
    try {
      values[i] = std::stoi(*v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DG_CHECK(used > 0 && used == v->size(), path, ": classifier metadata ", kConfigKeys[i], " = '", *v,
             "' is not an integer");
  }
  const ClassifierConfig cfg{values[0], values[1], values[2], values[3]};
  std::unique_ptr<Classifier> net;
  try {
    validate(cfg);
    net = std::make_unique<Classifier>(ctx, cfg, false);
    load_store(ctx, net->net_.params, StorePart::state, "", st);
  } catch (const Error& e) {
    DG_FAIL(path, ": ", e.what());
  }
  net->metadata_ = st.metadata;
  return net;
}

// ---- training ----

// A labelled set whose images can be given the classifier's channels, labels in range.
static void check_labelled(const data::ImageSet& set, const ClassifierConfig& cfg, const char* role) {
  DG_CHECK(set.count > 0, set.source, ": the ", role, " set is empty");
  DG_CHECK(set.labels.size() == size_t(set.count), set.source, ": the ", role,
           " set has no labels (", set.labels.size(), " for ", set.count,
           " images); the classifier needs a labelled data set");
  for (int i = 0; i < set.count; i++)
    DG_CHECK(set.labels[i] >= 0 && set.labels[i] < cfg.classes, set.source, ": label ", set.labels[i], " of image ",
             i, " is outside [0, ", cfg.classes, ") (the classifier has ", cfg.classes, " classes)");
  try {
    data::check_channels(set, cfg.channels);
  } catch (const data::DataError& e) {
    DG_FAIL(e.what());
  }
}

namespace {

// Images idx[0..B) of `set` into the device tensors images (B, C, S, S) and labels (B),
// through host staging.
struct LabelledBatchUpload {
  std::vector<float> images, labels;
  void run(Context& ctx, const data::ImageSet& set, const ClassifierConfig& cfg, const int32_t* idx, int B,
           Tensor images_dev, Tensor labels_dev) {
    const int64_t per = int64_t(cfg.channels) * cfg.image_size * cfg.image_size;
    images.resize(size_t(per * B));
    labels.resize(size_t(B));
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
      data::preprocess_image(set, idx[b], cfg.image_size, cfg.channels, images.data() + per * b);
    for (int b = 0; b < B; b++) labels[b] = float(set.labels[idx[b]]);
    ctx.upload(images_dev.slice(0, {B, cfg.channels, cfg.image_size, cfg.image_size}), images.data());
    ctx.upload(labels_dev.slice(0, {B}), labels.data());
  }
};

}  // namespace

double classifier_accuracy(Context& ctx, Classifier& net, const data::ImageSet& set, int batch_size) {
  const ClassifierConfig& cfg = net.config();
  check_labelled(set, cfg, "evaluation");
  DG_CHECK(batch_size >= 1, "classifier_accuracy: batch size ", batch_size);
  ScratchScope scratch(ctx);
  const int B = std::min(batch_size, set.count);
  Tensor images = ctx.alloc({B, cfg.channels, cfg.image_size, cfg.image_size}), labels = ctx.alloc({B});
  Tensor logits = ctx.alloc({B, cfg.classes}), correct = ctx.alloc({1}), total = ctx.zeros({1});
  std::vector<int32_t> idx(size_t(set.count));
  for (int i = 0; i < set.count; i++) idx[i] = i;
  LabelledBatchUpload upload;
  for (int start = 0; start < set.count; start += B) {
    const int n = std::min(B, set.count - start);
    upload.run(ctx, set, cfg, idx.data() + start, n, images, labels);
    Tensor lg = logits.slice(0, {n, cfg.classes});
    net.forward(ctx, images.slice(0, {n, cfg.channels, cfg.image_size, cfg.image_size}), Tensor{}, lg);
    softmax_cross_entropy(ctx, lg, labels.slice(0, {n}), Tensor{}, Tensor{}, correct);
    axpy(ctx, 1.0f, correct, total);  // exact: counts below 2^24
  }
  float hits = 0;
  ctx.download(total, &hits);
  return double(hits) / double(set.count);
}

ClassifierReport train_classifier(Context& ctx, Classifier& net, const data::ImageSet& train,
                                  const data::ImageSet& test, const ClassifierTrainConfig& tc,
                                  const std::function<void(const std::string&)>& progress) {
  const ClassifierConfig& cfg = net.config();
  DG_CHECK(net.training(), "train_classifier: the classifier was built for inference (training = false)");
  DG_CHECK(tc.epochs >= 1 && tc.batch_size >= 2, "train_classifier: epochs ", tc.epochs, ", batch size ",
           tc.batch_size, " (need epochs >= 1, batch >= 2)");
  check_labelled(train, cfg, "training");
  check_labelled(test, cfg, "test");
  const auto t0 = std::chrono::steady_clock::now();
  // Whole batches only (a last batch of 1 would break the batch statistics).
  const int B = std::min(tc.batch_size, train.count);
  DG_CHECK(B >= 2, train.source, ": ", train.count, " image(s) are too few to train on");
  const int64_t steps_per_epoch = train.count / B, total_steps = steps_per_epoch * tc.epochs;

  ScratchScope scratch(ctx);
  Tensor images = ctx.alloc({B, cfg.channels, cfg.image_size, cfg.image_size}), labels = ctx.alloc({B});
  Tensor loss = ctx.alloc({1}), correct = ctx.alloc({1}), sums = ctx.alloc({2});  // sums: loss, correct
  LabelledBatchUpload upload;
  ClassifierReport report;
  int64_t step = 0;
  for (int epoch = 0; epoch < tc.epochs; epoch++) {
    const std::vector<int32_t> order = data::epoch_permutation(tc.seed, epoch, train.count);
    ctx.fill(sums, 0.0f);
    for (int64_t s = 0; s < steps_per_epoch; s++) {
      upload.run(ctx, train, cfg, order.data() + s * B, B, images, labels);
      AdamConfig adam;
      adam.beta1 = 0.9f;
      adam.lr = tc.lr * float(1.0 - double(step) / double(total_steps));
      net.train_step(ctx, images, labels, adam, step + 1, loss, correct);
      axpy(ctx, 1.0f, loss, sums.slice(0, {1}));
      axpy(ctx, 1.0f, correct, sums.slice(1, {1}));
      step++;
    }
    float host[2];
    ctx.download(sums, host);
    report.final_train_loss = double(host[0]) / double(steps_per_epoch);
    report.test_accuracy = classifier_accuracy(ctx, net, test);
    report.epochs = epoch + 1;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress) {
      char line[256];
      std::snprintf(line, sizeof line, "epoch %d/%d: train loss %.4f, train accuracy %.4f, test accuracy %.4f, %.1f s",
                    epoch + 1, tc.epochs, report.final_train_loss, double(host[1]) / double(steps_per_epoch * B),
                    report.test_accuracy, report.seconds);
      progress(line);
    }
  }
  return report;
}

}  // namespace dg
