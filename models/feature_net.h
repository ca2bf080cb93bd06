// The feature networks evaluation reads (DESIGN §7): a network that maps images to
// features (FID, KID) and class logits (IS). Two are known:
//   - Inception-v3, FID variant (models/inception.h), from a converted weight file
//   - dg's own classifier (models/classifier.h), which `dgeval train-classifier` makes
// load_feature_net() tells them apart by the file's contents.
//
// name() identifies the network *and its weights* ("dg-classifier 32x32x1 #1a2b3c4d5e6f7081",
// the hash being of the weights file), because features of two different weight files are
// as incomparable as those of two architectures. Statistics carry the name and FID refuses
// to compare statistics of two names.
#pragma once
#include <memory>
#include <string>

#include "engine/context.h"
#include "engine/tensor.h"

namespace dg {

class FeatureNet {
 public:
  virtual ~FeatureNet() = default;
  const std::string& name() const { return name_; }
  virtual int feature_dim() const = 0;
  virtual int classes() const = 0;
  // The largest batch forward() takes at once (what bounds memory), for callers that chunk.
  virtual int max_batch() const = 0;
  // images (N, 1 or 3, H, W) in [-1, 1], any size (brought to the network's own input)
  // -> features (N, feature_dim) and logits (N, classes); logits may be an empty Tensor.
  virtual void forward(Context& ctx, const Tensor& images, Tensor features, Tensor logits) = 0;

 protected:
  std::string name_;
};

// Loads a converted FID Inception file or a dg classifier file; anything else is a dg::Error
// that names the file and says which files are accepted.
std::unique_ptr<FeatureNet> load_feature_net(Context& ctx, const std::string& path);

// 64-bit FNV-1a (engine/fnv1a.h) of a file's bytes, as 16 hex digits (names weights in name()).
std::string file_fingerprint(const std::string& path);

}  // namespace dg
