// TF32, the tensor-core input format: FP32's exponent with 10 mantissa bits. The emulator
// rounds each input to nearest (ties to even) and accumulates in FP32; real tensor cores
// agree on the format, not necessarily on the rounding, and sum in their own order.
#pragma once
#include <bit>
#include <cstdint>

namespace dgemu {

inline float to_tf32(float x) {
  uint32_t u = std::bit_cast<uint32_t>(x);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;  // inf, NaN
  u += 0xfffu + ((u >> 13) & 1u);
  return std::bit_cast<float>(u & 0xffffe000u);
}

}  // namespace dgemu
