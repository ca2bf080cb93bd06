// The Philox RNG: known-answer vectors of Philox4x32-10, reproducibility, independence of
// streams and offsets, the accuracy of its own log/sincos, and the moments of its normals.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/random/random.h"
#include "kernels/random/philox.h"

using namespace dg;

TEST_CASE("philox4x32-10 known-answer vectors") {
  // The published test vectors of the Random123 paper's Philox4x32-10.
  struct Kat {
    rng::U32x4 ctr;
    uint32_t k0, k1;
    uint32_t out[4];
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
       {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
       {0xd16cfe09u, 0x94fdcceb, 0x5001e420u, 0x24126ea1u}},
  };
  for (const Kat& k : kats) {
    rng::U32x4 r = rng::philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; i++) CHECK(r.v[i] == k.out[i]);
  }
}

TEST_CASE("the RNG's log and sincos agree with libm") {
  double worst_log = 0, worst_trig = 0;
  for (uint32_t i = 0; i < 200000; i++) {
    uint32_t bits = i * 21473u + 17u;  // spread over the 24-bit range
    float u = rng::uniform_open0(bits << 8);
    worst_log = std::max(worst_log, std::fabs(rng::log_unit(u) - std::log(double(u))) /
                                        std::max(1e-30, std::fabs(std::log(double(u)))) * (u == 1.0f ? 0 : 1));
    float c, s;
    float v = float(bits & 0xffffffu) * 5.9604644775390625e-8f;
    rng::sincos_2pi(v, &c, &s);
    worst_trig = std::max({worst_trig, std::fabs(c - std::cos(2 * M_PI * v)), std::fabs(s - std::sin(2 * M_PI * v))});
  }
  CHECK(worst_log < 5e-7);   // a few float ulps
  CHECK(worst_trig < 1e-6);
  CHECK(rng::log_unit(1.0f) == 0.0f);
}

TEST_CASE("fill_normal is reproducible and addressable by offset") {
  Context ctx;
  Tensor a = ctx.alloc({1000}), b = ctx.alloc({1000}), c = ctx.alloc({990}), d = ctx.alloc({1000});
  fill_normal(ctx, a, 0.0f, 1.0f, 42, 3);
  fill_normal(ctx, b, 0.0f, 1.0f, 42, 3);
  fill_normal(ctx, c, 0.0f, 1.0f, 42, 3, 10);  // starts at element 10 (not a multiple of 4)
  fill_normal(ctx, d, 0.0f, 1.0f, 42, 4);      // another stream
  int same_as_other_stream = 0;
  for (int i = 0; i < 1000; i++) {
    CHECK(a.data[i] == b.data[i]);
    if (a.data[i] == d.data[i]) same_as_other_stream++;
  }
  for (int i = 0; i < 990; i++) CHECK(c.data[i] == a.data[i + 10]);
  CHECK(same_as_other_stream == 0);
  Tensor e = ctx.alloc({1000});
  fill_normal(ctx, e, 0.0f, 1.0f, 43, 3);  // another seed
  CHECK(e.data[0] != a.data[0]);
  // base + step * per_step, the step given or read from a counter as the fill runs: both
  // start at element 10 + 3 * 100 = 310.
  Tensor f = ctx.alloc({500}), g = ctx.alloc({500});
  int64_t done = 3;
  fill_normal(ctx, f, 0.0f, 1.0f, 42, 3, RngOffset(10, StepIndex{3}, 100));
  fill_normal(ctx, g, 0.0f, 1.0f, 42, 3, RngOffset(10, StepIndex::counted(&done), 100));
  for (int i = 0; i < 500; i++) {
    CHECK(f.data[i] == a.data[i + 310]);
    CHECK(g.data[i] == a.data[i + 310]);
  }
  CHECK_THROWS_WITH_AS(fill_normal(ctx, f, 0.0f, 1.0f, 42, 3, RngOffset(0, StepIndex{-1}, 1)),
                       doctest::Contains("got -1"), dg::Error);
}

TEST_CASE("fill_normal: mean and variance over 1e6 samples") {
  Context ctx;
  const int n = 1000000;
  Tensor t = ctx.alloc({n});
  fill_normal(ctx, t, 0.0f, 1.0f, 2026, 0);
  double sum = 0, sq = 0, quart = 0;
  int beyond3 = 0;
  for (int i = 0; i < n; i++) {
    sum += t.data[i];
    sq += double(t.data[i]) * t.data[i];
    quart += std::pow(double(t.data[i]), 4);
    if (std::fabs(t.data[i]) > 3) beyond3++;
  }
  double mean = sum / n, var = sq / n - mean * mean;
  // Standard errors: mean 1/sqrt(n) = 1e-3, variance sqrt(2/n) = 1.4e-3; bounds are 5 sigma.
  CHECK(std::fabs(mean) < 5e-3);
  CHECK(std::fabs(var - 1.0) < 7e-3);
  // Kurtosis of a normal is 3, standard error sqrt(96 / n) = 0.01; P(|z| > 3) = 0.0027, with
  // 2700 expected here, standard error 52 (2 %). Relative bounds, ~5 sigma (doctest's Approx
  // would add 1 to its scale and let a normal without tails pass).
  CHECK(std::fabs(quart / n - 3.0) < 0.05);
  CHECK(std::fabs(double(beyond3) / n / 0.0027 - 1.0) < 0.1);
  // Scaled fill: N(1, 0.02^2).
  fill_normal(ctx, t, 1.0f, 0.02f, 7, 1);
  sum = sq = 0;
  for (int i = 0; i < n; i++) {
    sum += t.data[i];
    sq += double(t.data[i]) * t.data[i];
  }
  mean = sum / n;
  // Standard errors: mean 0.02 / sqrt(n) = 2e-5, std 0.02 / sqrt(2 n) = 1.4e-5 (0.07 %).
  CHECK(std::fabs(mean - 1.0) < 1e-4);
  CHECK(std::fabs(std::sqrt(sq / n - mean * mean) / 0.02 - 1.0) < 0.01);
}

TEST_CASE("fill_normal rounds std * z and then mean + that, each once (no fused multiply-add)") {
  // The CUDA twin rounds the product and the sum separately; a compiler that contracts
  // them into an fma on the CPU changes about 1% of N(1, 0.02^2) samples in the last bit.
  // Float products and sums computed in double and rounded once to float are the correctly
  // rounded float results (double has more than 2*24+2 bits). The volatile keeps the compiler
  // from narrowing this expectation back to float and contracting it too.
  Context ctx;
  const int n = 100000;
  Tensor z = ctx.alloc({n}), t = ctx.alloc({n});
  fill_normal(ctx, z, 0.0f, 1.0f, 7, 1);
  fill_normal(ctx, t, 1.0f, 0.02f, 7, 1);
  int differ = 0;
  for (int i = 0; i < n; i++) {
    volatile float product = float(double(0.02f) * double(z.data[i]));
    float expect = float(1.0 + double(product));
    differ += t.data[i] != expect;
  }
  CHECK(differ == 0);
}
