// Philox4x32-10 counter-based RNG and its normal distribution, shared by the CPU
// backend and the CUDA kernels so both produce the same numbers bit for bit.
//
// Stream layout: normal number j of (seed, stream) comes from counter block j/4,
// lane j%4, with counter = (j/4 low, j/4 high, stream low, stream high) and key = seed.
// Any element can be computed independently, so a fill parallelizes trivially and a
// resumed run can jump to any offset.
//
// Bit-exactness between host and device: the transform below uses only +, -, *, /,
// sqrt and fma (kernels/float_ops.h), which IEEE-754 rounds correctly on both sides, never
// libm's log/sin/cos (whose last bits differ between glibc and CUDA).
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/float_ops.h"

namespace dg::rng {

using fp::add;
using fp::div;
using fp::fma;
using fp::mul;
using fp::mulhi;
using fp::sqrt;
using fp::sub;

struct U32x4 {
  uint32_t v[4];
};

// Philox4x32 with 10 rounds (Salmon et al., SC'11).
DG_HD U32x4 philox4x32_10(U32x4 ctr, uint32_t key0, uint32_t key1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;  // round multipliers
  const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;  // key schedule (Weyl) increments
  for (int round = 0; round < 10; round++) {
    uint32_t hi0 = mulhi(M0, ctr.v[0]), lo0 = M0 * ctr.v[0];
    uint32_t hi1 = mulhi(M1, ctr.v[2]), lo1 = M1 * ctr.v[2];
    U32x4 next = {{hi1 ^ ctr.v[1] ^ key0, lo1, hi0 ^ ctr.v[3] ^ key1, lo0}};
    ctr = next;
    key0 += W0;
    key1 += W1;
  }
  return ctr;
}

// Uniform in (0, 1]: 24 random bits, +1, times 2^-24. Exact in float; never 0 (log below).
DG_HD float uniform_open0(uint32_t x) { return float((x >> 8) + 1u) * 5.9604644775390625e-8f; }

// Natural log for x in (0, 1] (normal floats; x >= 2^-24 here).
// x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m-1)/(m+1),
// |s| <= 0.1716, series to s^11: truncation < 2e-10 relative.
DG_HD float log_unit(float x) {
  int e = 0;
  // Exponent and mantissa by repeated exact scaling (x >= 2^-24, so at most 25 steps).
  float m = x;
  while (m < 0.70710678f) {
    m = mul(m, 2.0f);
    e--;
  }
  float s = div(sub(m, 1.0f), add(m, 1.0f));
  float s2 = mul(s, s);
  float p = 1.0f / 11.0f;
  p = fma(p, s2, 1.0f / 9.0f);
  p = fma(p, s2, 1.0f / 7.0f);
  p = fma(p, s2, 1.0f / 5.0f);
  p = fma(p, s2, 1.0f / 3.0f);
  p = fma(p, s2, 1.0f);
  float log_m = mul(2.0f, mul(s, p));
  return fma(float(e), 0.693147180559945309f, log_m);
}

// cos and sin of 2*pi*u for u in [0, 1). The quadrant q and fraction f come exactly from
// 4u; a = f*pi/2 in [0, pi/2); Taylor series to a^13 / a^14 (truncation < 1e-9).
DG_HD void sincos_2pi(float u, float* c, float* s) {
  float u4 = mul(u, 4.0f);
  int q = int(u4);  // 0..3
  float a = mul(sub(u4, float(q)), 1.57079632679489662f);
  float a2 = mul(a, a);
  float sp = -1.0f / 6227020800.0f;  // -1/13!
  sp = fma(sp, a2, 1.0f / 39916800.0f);
  sp = fma(sp, a2, -1.0f / 362880.0f);
  sp = fma(sp, a2, 1.0f / 5040.0f);
  sp = fma(sp, a2, -1.0f / 120.0f);
  sp = fma(sp, a2, 1.0f / 6.0f);
  float sin_a = fma(mul(-a, a2), sp, a);  // a - a^3 (1/6 - a^2/120 + ...)
  float cp = 1.0f / 87178291200.0f;  // 1/14!
  cp = fma(cp, a2, -1.0f / 479001600.0f);
  cp = fma(cp, a2, 1.0f / 3628800.0f);
  cp = fma(cp, a2, -1.0f / 40320.0f);
  cp = fma(cp, a2, 1.0f / 720.0f);
  cp = fma(cp, a2, -1.0f / 24.0f);
  cp = fma(cp, a2, 0.5f);
  float cos_a = fma(-a2, cp, 1.0f);  // 1 - a^2 (1/2 - a^2/24 + ...)
  switch (q) {
    case 0: *c = cos_a;  *s = sin_a;  break;
    case 1: *c = -sin_a; *s = cos_a;  break;
    case 2: *c = -cos_a; *s = -sin_a; break;
    default: *c = sin_a; *s = -cos_a; break;
  }
}

// Four standard normals from one counter block (two Box-Muller pairs).
DG_HD void normal4(uint64_t seed, uint64_t stream, uint64_t block, float out[4]) {
  U32x4 ctr = {{uint32_t(block), uint32_t(block >> 32), uint32_t(stream), uint32_t(stream >> 32)}};
  U32x4 r = philox4x32_10(ctr, uint32_t(seed), uint32_t(seed >> 32));
  for (int pair = 0; pair < 2; pair++) {
    float radius = sqrt(mul(-2.0f, log_unit(uniform_open0(r.v[2 * pair]))));
    float u = float(r.v[2 * pair + 1] >> 8) * 5.9604644775390625e-8f;  // [0, 1)
    float c, s;
    sincos_2pi(u, &c, &s);
    out[2 * pair] = mul(radius, c);
    out[2 * pair + 1] = mul(radius, s);
  }
}

// Normal number `index` of (seed, stream).
DG_HD float normal_at(uint64_t seed, uint64_t stream, uint64_t index) {
  float four[4];
  normal4(seed, stream, index / 4, four);
  return four[index % 4];
}

}  // namespace dg::rng
