// The feature classifier (issue #5): a small CNN trained on a labelled data set whose
// penultimate layer gives the features of a domain-specific FID (DESIGN §7), and whose
// logits give a classifier score. Built from the engine's own layers:
//
//   images (N, channels, S, S) in [-1, 1]
//   -> conv k4 s2 p1 + BN + LeakyReLU(0.2), halving S down to 4x4; channels width, 2 width,
//      4 width, then 4 width for the extra halvings of S = 64, 128      ("main.*", network.h)
//   -> flatten (N, 4 width * 16) -> linear -> LeakyReLU(0.2)  = features (N, 4 width)  ("fc1.*")
//   -> linear -> logits (N, classes)                                                   ("fc2.*")
//
// One ParamStore holds every tensor, so Adam is one call and a file one write. Saved as
// safetensors with metadata format "dg-classifier" (see save()).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "data/image_set.h"
#include "engine/safetensors.h"
#include "models/network.h"
#include "kernels/adam/adam.h"

namespace dg {

struct ClassifierConfig {
  int channels = 1;
  int image_size = 32;  // 32, 64 or 128
  int classes = 10;
  int width = 32;       // channels of the first conv; features = 4 width
};

class Classifier {
 public:
  static constexpr const char* kNetwork = "dg-classifier";
  static constexpr int kFormatVersion = 1;

  // Declares and allocates the parameters; training=false allocates no gradients/moments.
  Classifier(Context& ctx, const ClassifierConfig& cfg, bool training);
  const ClassifierConfig& config() const { return cfg_; }
  int feature_dim() const { return 4 * cfg_.width; }  // the penultimate layer's width (the FID features)
  int classes() const { return cfg_.classes; }
  bool training() const { return training_; }
  ParamStore& store() { return net_.params; }

  // DESIGN §4 init (N(0, 0.02) weights, zero biases, BN gamma N(1, 0.02)).
  void init_weights(Context& ctx, uint64_t seed);

  // Eval mode (BN running statistics). images (N, channels, image_size, image_size) in
  // [-1, 1] -> features (N, feature_dim) and logits (N, classes); either may be empty.
  void forward(Context& ctx, const Tensor& images, Tensor features, Tensor logits);

  // One training step on a batch (training mode BN, running statistics updated): forward,
  // softmax cross-entropy against labels (N, class ids as floats), backward, Adam step
  // number `step` (from 1). loss (1) and correct (1) [optional] receive the batch's mean
  // loss and number of correct argmaxes (before the update), on the device.
  void train_step(Context& ctx, const Tensor& images, const Tensor& labels, const AdamConfig& adam, int64_t step,
                  Tensor loss, Tensor correct);

  // safetensors with metadata: format "dg-classifier", format_version, channels,
  // image_size, classes, width, plus every key/value of `meta` (dataset, test_accuracy,
  // ...). Atomic write (engine/safetensors.h). Tensors: the parameters and BN running
  // statistics under their names (main.*, fc1.*, fc2.*).
  void save(Context& ctx, const std::string& path, const std::map<std::string, std::string>& meta);
  // Reads the config from the metadata, builds (for inference), loads; a file that is not a
  // dg classifier, or a wrong shape / missing tensor, is a dg::Error naming the file and
  // what is wrong.
  static std::unique_ptr<Classifier> load(Context& ctx, const std::string& path);
  // The same from a file already read (`st`); `path` only names it in errors.
  static std::unique_ptr<Classifier> load(Context& ctx, const SafeTensors& st, const std::string& path);
  // What load() read (empty for a new one).
  std::map<std::string, std::string> metadata() const { return metadata_; }

 private:
  // The head after the conv trunk; `trunk_out` is the trunk's output (N, 4w, 4, 4).
  struct Head {
    Tensor flat, pre, features, logits;  // (N, 64w), (N, 4w), (N, 4w), (N, classes)
  };
  Head head_forward(Context& ctx, const Tensor& trunk_out);

  ClassifierConfig cfg_;
  bool training_;
  Network net_;
  std::map<std::string, std::string> metadata_;
};

void validate(const ClassifierConfig& cfg);

struct ClassifierTrainConfig {
  int epochs = 3;
  int batch_size = 128;
  float lr = 2e-3f;      // Adam (beta1 0.9, beta2 0.999), decayed linearly to 0 over the run
  uint64_t seed = 0;     // shuffling (data/shuffle.h); the weights are initialized by the caller
};
struct ClassifierReport {
  double test_accuracy = 0;
  double seconds = 0;
  int epochs = 0;
  double final_train_loss = 0;  // mean over the last epoch
};

// Trains on `train` (a labelled ImageSet, converted to the classifier's channels/size as
// data/preprocess does), reports accuracy on `test`; `progress` (may be empty) gets a line
// per epoch. A set without labels, or a label outside [0, classes), is a dg::Error.
ClassifierReport train_classifier(Context& ctx, Classifier& net, const data::ImageSet& train,
                                  const data::ImageSet& test, const ClassifierTrainConfig& cfg,
                                  const std::function<void(const std::string&)>& progress);

// Accuracy of `net` (eval mode) on a labelled set, in [0, 1].
double classifier_accuracy(Context& ctx, Classifier& net, const data::ImageSet& set, int batch_size = 256);

}  // namespace dg
