// The FID Inception-v3 forward (models/inception.h) on the CPU against PyTorch running the
// same architecture with the same made-up weights (bench/pytorch/make_inception_golden.py,
// tests/hash_weights.h): pool3 features and logits; grayscale input; refused weight files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "engine/param_io.h"
#include "engine/safetensors.h"
#include "models/inception.h"
#include "tests/hash_weights.h"

using namespace dg;

namespace {

// Largest |a - b| over the largest |b|, and the largest elementwise |a - b| / (|b| + 1e-2).
struct Diff {
  double of_max = 0, elementwise = 0;
};
Diff compare(const Tensor& a, const StTensor& b) {
  REQUIRE(size_t(a.numel()) == b.data.size());
  double worst = 0, largest = 0, rel = 0;
  for (size_t i = 0; i < b.data.size(); i++) {
    const double d = std::fabs(double(a.data[i]) - b.data[i]);
    worst = std::max(worst, d);
    largest = std::max(largest, std::fabs(double(b.data[i])));
    rel = std::max(rel, d / (std::fabs(double(b.data[i])) + 1e-2));
  }
  return {worst / largest, rel};
}

}  // namespace

TEST_CASE("Inception-v3 (FID) forward on the CPU matches PyTorch: pool3 and logits") {
  const SafeTensors golden = read_safetensors(std::string(DG_TEST_DATA_DIR) + "/inception_golden.safetensors");
  Context ctx;
  InceptionFid net(ctx);
  CHECK(std::to_string(net.store().views().size()) == golden.meta("tensors"));
  test::fill_hash_weights(net.store());
  const StTensor& images = golden.at("images");
  Tensor x = ctx.alloc({2, 3, 37, 41});
  std::copy(images.data.begin(), images.data.end(), x.data);
  Tensor pool3 = ctx.alloc({2, InceptionFid::kFeatures}), logits = ctx.alloc({2, InceptionFid::kClasses});
  net.forward(ctx, x, pool3, logits);
  const Diff p = compare(pool3, golden.at("pool3")), l = compare(logits, golden.at("logits"));
  MESSAGE("pool3: max diff / max ", p.of_max, ", elementwise ", p.elementwise, "; logits: ", l.of_max, ", ",
          l.elementwise);
  // Float32 on both sides, different summation orders through 94 convolutions: 1e-4.
  CHECK(p.of_max < 1e-4);
  CHECK(p.elementwise < 1e-4);
  CHECK(l.of_max < 1e-4);
  CHECK(l.elementwise < 1e-4);

  // A grayscale image gives the features of the same image repeated over R, G and B.
  Tensor gray = ctx.alloc({1, 1, 37, 41}), rgb = ctx.alloc({1, 3, 37, 41});
  for (int c = 0; c < 3; c++) std::copy(x.data, x.data + 37 * 41, rgb.data + c * 37 * 41);
  std::copy(x.data, x.data + 37 * 41, gray.data);
  Tensor fg = ctx.alloc({1, InceptionFid::kFeatures}), fr = ctx.alloc({1, InceptionFid::kFeatures});
  net.forward(ctx, gray, fg, Tensor());
  net.forward(ctx, rgb, fr, Tensor());
  CHECK(std::equal(fg.data, fg.data + fg.numel(), fr.data));
}

TEST_CASE("Inception weights: a file that is not a converted FID Inception is refused, naming the tensor") {
  Context ctx;
  InceptionFid net(ctx);
  SafeTensors st;
  save_store(ctx, net.store(), StorePart::state, "", st);
  st.tensors.erase("Mixed_6c.branch7x7dbl_4.bn.running_var");
  CHECK_THROWS_WITH(net.load(ctx, st, "weights.safetensors"),
                    doctest::Contains("weights.safetensors is not a converted FID Inception"));
  CHECK_THROWS_WITH(net.load(ctx, st, "weights.safetensors"), doctest::Contains("Mixed_6c.branch7x7dbl_4.bn.running_var"));
  save_store(ctx, net.store(), StorePart::state, "", st);
  st.tensors["fc.weight"].shape = {1000, 2048};
  st.tensors["fc.weight"].data.resize(1000 * 2048);
  CHECK_THROWS_WITH(net.load(ctx, st, "weights.safetensors"), doctest::Contains("fc.weight"));
  save_store(ctx, net.store(), StorePart::state, "", st);
  CHECK_NOTHROW(net.load(ctx, st, "weights.safetensors"));
}
