// Inception-v3 as the standard FID features use it (DESIGN §7): the network of the FID
// Inception weights (the TensorFlow graph the FID paper used, as pytorch-fid ports it):
// torchvision's Inception-v3 layout with 1008 classes, average pools that exclude padding
// in the Mixed blocks, and a max pool in the pool branch of the last block (Mixed_7c).
// Forward only, on the CPU or the GPU, with pytorch-fid's input path: images in [-1, 1]
// quantized to 8 bits as if saved to PNG, bilinear resize to 299 (align_corners=False),
// scaled to [-1, 1]. Outputs the 2048-d pool3 features and the 1008 logits (pool3 times the
// fc weights, no bias) that IS uses.
//
// Weights: tools/convert_fid_inception.py turns the standard PyTorch FID Inception weight
// file (which the user supplies) into a safetensors file under the same tensor names
// ("Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch1x1.bn.running_var", ..., "fc.weight").
#pragma once
#include <string>
#include <vector>

#include "engine/param_store.h"
#include "engine/safetensors.h"

namespace dg {

class InceptionFid {
 public:
  static constexpr const char* kNetwork = "inception-v3-fid";
  static constexpr int kFeatures = 2048, kClasses = 1008, kInputSize = 299;

  // Declares and allocates every tensor (forward only: no gradients or moments).
  explicit InceptionFid(Context& ctx);
  // Fills the weights from a converted file; a missing tensor or a wrong shape is an error
  // that names the file and the tensor.
  void load(Context& ctx, const SafeTensors& weights, const std::string& source);
  ParamStore& store() { return store_; }

  // images (N, C in {1, 3}, H, W) in [-1, 1] -> pool3 (N, 2048); logits (N, 1008) if given.
  void forward(Context& ctx, const Tensor& images, Tensor pool3, Tensor logits);

 private:
  struct Conv {  // BasicConv2d: conv (no bias) + BatchNorm (eps 1e-3) + ReLU
    std::string name;
    int stride, pad_h, pad_w;
  };
  void declare(const std::string& name, int cin, int cout, int kh, int kw, int stride = 1, int pad_h = 0,
               int pad_w = 0);
  Tensor conv(Context& ctx, const std::string& name, const Tensor& x);
  Tensor mixed_a(Context& ctx, const std::string& name, const Tensor& x);      // Mixed_5b..5d
  Tensor mixed_b(Context& ctx, const std::string& name, const Tensor& x);      // Mixed_6a
  Tensor mixed_c(Context& ctx, const std::string& name, const Tensor& x);      // Mixed_6b..6e
  Tensor mixed_d(Context& ctx, const std::string& name, const Tensor& x);      // Mixed_7a
  Tensor mixed_e(Context& ctx, const std::string& name, const Tensor& x, bool max_pool);  // Mixed_7b, 7c

  ParamStore store_;
  std::vector<Conv> convs_;
};

}  // namespace dg
