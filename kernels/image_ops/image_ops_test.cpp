// The forward-only image ops of the feature networks (kernels/image_ops/image_ops.h) on hand-worked cases:
// pooling windows at the border (padding never wins a max; averages count only pixels
// inside the image), PyTorch's bilinear resize with align_corners=False, 8-bit quantization
// and channel concatenation. The whole Inception forward is checked against PyTorch in
// tests/test_inception.cpp.
#include <doctest/doctest.h>

#include <vector>

#include "kernels/image_ops/image_ops.h"

using namespace dg;

namespace {
Tensor from(Context& ctx, Shape s, std::vector<float> v) {
  Tensor t = ctx.alloc(s);
  REQUIRE(size_t(t.numel()) == v.size());
  std::copy(v.begin(), v.end(), t.data);
  return t;
}
std::vector<float> values(const Tensor& t) { return {t.data, t.data + t.numel()}; }
}  // namespace

TEST_CASE("max and average pooling at the borders") {
  Context ctx;
  // One 3x3 plane of negatives: zero padding must not win the max.
  Tensor x = from(ctx, {1, 1, 3, 3}, {-1, -2, -3, -4, -5, -6, -7, -8, -9});
  Tensor y = ctx.alloc({1, 1, 3, 3});
  max_pool2d(ctx, x, {3, 1, 1}, y);
  CHECK(values(y) == std::vector<float>{-1, -1, -2, -1, -1, -2, -4, -4, -5});
  avg_pool2d(ctx, x, {3, 1, 1}, y);
  // Corner: (−1−2−4−5)/4; edge (0, 1): (−1−2−3−4−5−6)/6; centre: all nine / 9.
  CHECK(y.data[0] == doctest::Approx(-3.0));
  CHECK(y.data[1] == doctest::Approx(-3.5));
  CHECK(y.data[4] == doctest::Approx(-5.0));
  // Stride 2 without padding: 5x5 -> 2x2.
  Tensor big = ctx.alloc({1, 1, 5, 5});
  for (int i = 0; i < 25; i++) big.data[i] = float(i);
  Tensor small = ctx.alloc({1, 1, 2, 2});
  CHECK(pool_out_size(5, {3, 2, 0}) == 2);
  max_pool2d(ctx, big, {3, 2, 0}, small);
  CHECK(values(small) == std::vector<float>{12, 14, 22, 24});
  avg_pool2d(ctx, big, {3, 2, 0}, small);
  CHECK(values(small) == std::vector<float>{6, 8, 16, 18});
  // A wrong output size names both shapes.
  Tensor wrong = ctx.alloc({1, 1, 3, 3});
  CHECK_THROWS_WITH(max_pool2d(ctx, big, {3, 2, 0}, wrong), doctest::Contains("not (1, 1, 3, 3)"));
}

TEST_CASE("bilinear resize is PyTorch's align_corners=False") {
  Context ctx;
  // 1x2 -> 1x4 along W: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (last pixel).
  Tensor x = from(ctx, {1, 1, 1, 2}, {1.0f, 5.0f});
  Tensor y = ctx.alloc({1, 1, 1, 4});
  resize_bilinear(ctx, x, y);
  CHECK(values(y) == std::vector<float>{1.0f, 2.0f, 4.0f, 5.0f});
  // The same size is the identity; 4 -> 2 averages neighbours (sources 0.5 and 2.5).
  Tensor z = from(ctx, {1, 1, 2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  Tensor same = ctx.alloc({1, 1, 2, 4}), half = ctx.alloc({1, 1, 1, 2});
  resize_bilinear(ctx, z, same);
  CHECK(values(same) == values(z));
  resize_bilinear(ctx, z, half);
  CHECK(values(half) == std::vector<float>{2.5f, 4.5f});
}

TEST_CASE("8-bit quantization and channel concatenation") {
  Context ctx;
  Tensor x = from(ctx, {6}, {-2.0f, -1.0f, 1.0f, 3.0f, 0.0f, 2.0f / 255.0f - 1.0f + 0.001f});
  Tensor y = ctx.alloc({6});
  quantize_8bit(ctx, x, y);
  // 0 -> level 127.5 rounds up to 128; the last value is level 1.1275 -> 1.
  CHECK(values(y) == std::vector<float>{-1.0f, -1.0f, 1.0f, 1.0f, 128.0f / 127.5f - 1.0f, 1.0f / 127.5f - 1.0f});
  Tensor a = from(ctx, {2, 1, 1, 2}, {1, 2, 3, 4}), b = from(ctx, {2, 2, 1, 2}, {5, 6, 7, 8, 9, 10, 11, 12});
  Tensor cat = ctx.alloc({2, 3, 1, 2});
  copy_channels(ctx, a, cat, 0);
  copy_channels(ctx, b, cat, 1);
  CHECK(values(cat) == std::vector<float>{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12});
  CHECK_THROWS_WITH(copy_channels(ctx, b, cat, 2), doctest::Contains("at channel 2"));
}
