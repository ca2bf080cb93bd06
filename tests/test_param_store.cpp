// ParamStore: flat layout, named views, kinds, and DESIGN §4 initialization.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/param_store.h"

using namespace dg;

static void add_dcgan_like(ParamStore& ps) {
  ps.add("main.0.weight", {100, 64, 4, 4}, ParamKind::conv_weight);
  ps.add("main.1.weight", {64}, ParamKind::bn_weight);
  ps.add("main.1.bias", {64}, ParamKind::bn_bias);
  ps.add("main.1.running_mean", {64}, ParamKind::running_mean);
  ps.add("main.1.running_var", {64}, ParamKind::running_var);
  ps.add("main.3.weight", {64, 3, 4, 4}, ParamKind::conv_weight);
}

TEST_CASE("flat buffers with aligned, disjoint views") {
  Context ctx;
  ParamStore ps;
  add_dcgan_like(ps);
  ps.allocate(ctx);
  // Parameters: 102400 + 64 + 64 + 3072, each padded to 64 floats.
  CHECK(ps.param_count() == 102400 + 64 + 64 + 3072);
  CHECK(ps.buffer_count() == 128);
  CHECK(ps.param("main.1.weight").data == ps.params().data + 102400);
  CHECK(ps.grad("main.3.weight").data == ps.grads().data + 102400 + 128);
  CHECK(ps.buffer("main.1.running_var").data == ps.buffers().data + 64);
  CHECK(ps.param("main.0.weight").shape == Shape{100, 64, 4, 4});
  for (const ParamView& v : ps.views()) CHECK(v.offset % 64 == 0);
  CHECK_THROWS_WITH_AS(ps.param("main.9.weight"), doctest::Contains("no tensor named 'main.9.weight'"), dg::Error);
  CHECK_THROWS_WITH_AS(ps.grad("main.1.running_mean"), doctest::Contains("has no gradient"), dg::Error);
  CHECK_THROWS_AS(ps.add("late", {1}, ParamKind::bn_bias), dg::Error);
  ParamStore dup;
  dup.add("a", {1}, ParamKind::bn_bias);
  CHECK_THROWS_WITH_AS(dup.add("a", {2}, ParamKind::bn_bias), doctest::Contains("duplicate tensor name a"), dg::Error);
}

TEST_CASE("initialization follows DESIGN section 4 and depends on seed and stream") {
  Context ctx;
  ParamStore a, b, c;
  add_dcgan_like(a);
  add_dcgan_like(b);
  add_dcgan_like(c);
  a.allocate(ctx);
  b.allocate(ctx);
  c.allocate(ctx);
  init_parameters(ctx, a, 5, 0);
  init_parameters(ctx, b, 5, 0);
  init_parameters(ctx, c, 5, 100);  // another network: another stream base
  Tensor w = a.param("main.0.weight");
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < w.numel(); i++) {
    sum += w.data[i];
    sq += double(w.data[i]) * w.data[i];
  }
  CHECK(std::fabs(sum / w.numel()) < 5 * 0.02 / std::sqrt(double(w.numel())));
  // std 0.02 within 2 % (its relative standard error is 1 / sqrt(2 n) = 0.2 %): a std of
  // 0.01 or 0.035 fails.
  CHECK(std::fabs(std::sqrt(sq / w.numel()) / 0.02 - 1.0) < 0.02);
  Tensor gamma = a.param("main.1.weight");
  double gsum = 0;
  for (int i = 0; i < 64; i++) gsum += gamma.data[i];
  CHECK(gsum / 64 == doctest::Approx(1.0).epsilon(0.01));
  for (int i = 0; i < 64; i++) {
    CHECK(a.param("main.1.bias").data[i] == 0.0f);
    CHECK(a.buffer("main.1.running_mean").data[i] == 0.0f);
    CHECK(a.buffer("main.1.running_var").data[i] == 1.0f);
  }
  for (int64_t i = 0; i < a.param_count(); i++) CHECK(a.params().data[i] == b.params().data[i]);
  CHECK(a.param("main.0.weight").data[0] != c.param("main.0.weight").data[0]);
}
