#include "models/feature_net.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "engine/error.h"
#include "engine/fnv1a.h"
#include "kernels/image_ops/image_ops.h"
#include "engine/safetensors.h"
#include "models/classifier.h"
#include "models/inception.h"

namespace dg {

std::string file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DG_CHECK(in.good(), path, ": cannot open (", std::strerror(errno), ")");
  Fnv1a h;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    h.add(buf, size_t(in.gcount()));
  }
  return h.hex();
}

namespace {

class InceptionFeatures : public FeatureNet {
 public:
  InceptionFeatures(Context& ctx, const SafeTensors& weights, const std::string& path) : net_(ctx) {
    net_.load(ctx, weights, path);
    name_ = std::string(InceptionFid::kNetwork) + " #" + file_fingerprint(path);
  }
  int feature_dim() const override { return InceptionFid::kFeatures; }
  int classes() const override { return InceptionFid::kClasses; }
  int max_batch() const override { return 50; }
  void forward(Context& ctx, const Tensor& images, Tensor features, Tensor logits) override {
    net_.forward(ctx, images, features, logits);  // quantizes and resizes to 299 itself
  }

 private:
  InceptionFid net_;
};

class ClassifierFeatures : public FeatureNet {
 public:
  ClassifierFeatures(Context& ctx, const SafeTensors& weights, const std::string& path)
      : net_(Classifier::load(ctx, weights, path)) {
    const ClassifierConfig& c = net_->config();
    name_ = std::string(Classifier::kNetwork) + " " + std::to_string(c.image_size) + "x" +
            std::to_string(c.image_size) + "x" + std::to_string(c.channels) + " #" + file_fingerprint(path);
  }
  int feature_dim() const override { return net_->feature_dim(); }
  int classes() const override { return net_->classes(); }
  int max_batch() const override { return 250; }
  // Images of another size are resized bilinearly; gray images are repeated to RGB for an
  // RGB classifier; RGB images for a gray classifier are refused (no guessing a conversion).
  void forward(Context& ctx, const Tensor& images, Tensor features, Tensor logits) override {
    const ClassifierConfig& c = net_->config();
    DG_CHECK(images.shape.rank == 4 && (images.c() == c.channels || (images.c() == 1 && c.channels == 3)), name_,
             ": images ", images.shape.str(), " do not fit a classifier of ", c.channels, " channel(s)");
    ScratchScope scratch(ctx);
    const int N = images.n();
    Tensor x = images;
    if (x.c() != c.channels) {
      Tensor rgb = ctx.alloc({N, 3, x.h(), x.w()});
      for (int ch = 0; ch < 3; ch++) copy_channels(ctx, x, rgb, ch);
      x = rgb;
    }
    if (x.h() != c.image_size || x.w() != c.image_size) {
      Tensor r = ctx.alloc({N, c.channels, c.image_size, c.image_size});
      resize_bilinear(ctx, x, r);
      x = r;
    }
    net_->forward(ctx, x, features, logits);
  }

 private:
  std::unique_ptr<Classifier> net_;
};

}  // namespace

std::unique_ptr<FeatureNet> load_feature_net(Context& ctx, const std::string& path) {
  const SafeTensors st = read_safetensors(path);
  auto format = st.metadata.find("format");
  if (format != st.metadata.end() && format->second == "dg-classifier")
    return std::make_unique<ClassifierFeatures>(ctx, st, path);
  if (st.has("Mixed_7c.branch_pool.conv.weight") && st.has("fc.weight"))
    return std::make_unique<InceptionFeatures>(ctx, st, path);
  DG_FAIL(path, ": not a feature network: expected a dg classifier (dgeval train-classifier) or FID Inception "
                "weights converted by tools/convert_fid_inception.py",
          format != st.metadata.end() ? " (this file's format is '" + format->second + "')" : std::string());
}

}  // namespace dg
