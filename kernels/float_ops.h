// Single float (and a few double) operations rounded once each, spelled the same on the host and the device, for
// the per-element math the CPU reference and the CUDA kernels share (DG_HD functions). On the
// device the _rn intrinsics keep nvcc from contracting a*b+c into an fma behind our back; on
// the host the build uses -ffp-contract=off (CMakeLists.txt), and std::fma where we want one.
// The transcendental functions (expf, log1pf, tanhf) are libm's on the host and CUDA's on the
// device: those may differ in the last bit or two; + - * / sqrt fma are exact roundings on both.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"

namespace dg::fp {

#if defined(__CUDA_ARCH__)
DG_HD float mul(float a, float b) { return __fmul_rn(a, b); }
DG_HD float add(float a, float b) { return __fadd_rn(a, b); }
DG_HD float sub(float a, float b) { return __fsub_rn(a, b); }
DG_HD float div(float a, float b) { return __fdiv_rn(a, b); }
DG_HD float fma(float a, float b, float c) { return __fmaf_rn(a, b, c); }
DG_HD float sqrt(float a) { return __fsqrt_rn(a); }
DG_HD uint32_t mulhi(uint32_t a, uint32_t b) { return __umulhi(a, b); }
DG_HD double dmul(double a, double b) { return __dmul_rn(a, b); }
DG_HD double dsub(double a, double b) { return __dsub_rn(a, b); }
DG_HD double ddiv(double a, double b) { return __ddiv_rn(a, b); }
DG_HD double dsqrt(double a) { return __dsqrt_rn(a); }
#else
DG_HD float mul(float a, float b) { return a * b; }
DG_HD float add(float a, float b) { return a + b; }
DG_HD float sub(float a, float b) { return a - b; }
DG_HD float div(float a, float b) { return a / b; }
DG_HD float fma(float a, float b, float c) { return std::fma(a, b, c); }
DG_HD float sqrt(float a) { return std::sqrt(a); }
DG_HD uint32_t mulhi(uint32_t a, uint32_t b) { return uint32_t((uint64_t(a) * b) >> 32); }
DG_HD double dmul(double a, double b) { return a * b; }
DG_HD double dsub(double a, double b) { return a - b; }
DG_HD double ddiv(double a, double b) { return a / b; }
DG_HD double dsqrt(double a) { return std::sqrt(a); }
#endif

// x^n for n >= 0 by repeated squaring, each product rounded once: the same bits on the host
// and the device (libm's and CUDA's pow may differ in the last bit).
DG_HD double powi(double x, int64_t n) {
  double r = 1.0;
  for (; n > 0; n >>= 1) {
    if (n & 1) r = dmul(r, x);
    x = dmul(x, x);
  }
  return r;
}

}  // namespace dg::fp
