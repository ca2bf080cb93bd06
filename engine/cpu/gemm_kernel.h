// The register tile of the CPU GEMM (engine/cpu/gemm.h), written once with GCC's vector
// extensions and built per ISA by gemm_kernel_{generic,avx2,avx512}.cpp: the same source each
// time, only the vector width, the tile and the compiler's target differ. Because a wide
// vector type also compiles for a narrower ISA (as pairs of narrower operations), the
// AVX-512 tile's logic is tested on any x86 CPU by building it for AVX2 (tests).
//
// The tile: MR rows x NV vectors of W floats of C. A is read where it lies: row r's element k
// is a[r][a_col[k]] (a convolution's image through its tap offsets), one broadcast load; B
// comes packed, NV vectors per k. acc[r][j] += a * b[j] is one fused multiply-add (these files
// are built with -ffp-contract=fast). MR * NV accumulators stay in registers: 4 x 2 of 16
// bytes (generic), 6 x 2 of 32 (AVX2), 8 x 2 of 64 (AVX-512); the MR row pointers in general
// registers. The loops over the tile are unrolled completely, the k loop four times.
//
// The ISA files include this header under `#pragma GCC target`: it must define only functions
// of internal linkage and include no header with inline functions of external linkage (say
// <algorithm>), whose AVX-512 copies the linker could then pick for every other file.
#pragma once
#include <cstdint>
#include <cstring>

namespace dg::cpu {
// Internal linkage: each ISA's file has its own copy. (Shared instantiations would be one
// COMDAT symbol for the linker to pick, say the AVX-512 build of a tile the AVX2 file asked for.)
namespace {

template <typename V, int W, int MR, int NV>
void gemm_tile(int kc, const float* const* a, const int32_t* a_col, const float* __restrict b, float* const* c,
               bool add) {
  constexpr int NR = W * NV;
  const float* rows[MR];
  for (int r = 0; r < MR; r++) rows[r] = a[r];
  V acc[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NV; j++) acc[r][j] = V{};
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    const int32_t at = a_col[k];
    V bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++) std::memcpy(&bv[j], b + k * NR + j * W, sizeof(V));
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const V av = V{} + rows[r][at];  // a broadcast load (-fno-signed-zeros drops the + 0)
#pragma GCC unroll 8
      for (int j = 0; j < NV; j++) acc[r][j] += av * bv[j];
    }
  }
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NV; j++) {
      V v = acc[r][j];
      if (add) {
        V old;
        std::memcpy(&old, c[r] + j * W, sizeof(V));
        v = old + v;
      }
      std::memcpy(c[r] + j * W, &v, sizeof(V));
    }
}

// The same tile with the roles turned round, for products whose C has fewer columns than MR
// (a convolution with 1 or 3 output channels): the broadcasts come from a packed panel (kc x
// MR), the vectors straight from memory: row k of B is b + b_off[k], NR adjacent floats.
template <typename V, int W, int MR, int NV>
void gemm_tile_t(int kc, const float* __restrict a, const float* b, const int32_t* b_off, float* const* c,
                 bool add) {
  V acc[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NV; j++) acc[r][j] = V{};
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    const float* row = b + b_off[k];
    V bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++) std::memcpy(&bv[j], row + j * W, sizeof(V));
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const V av = V{} + a[k * MR + r];
#pragma GCC unroll 8
      for (int j = 0; j < NV; j++) acc[r][j] += av * bv[j];
    }
  }
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NV; j++) {
      V v = acc[r][j];
      if (add) {
        V old;
        std::memcpy(&old, c[r] + j * W, sizeof(V));
        v = old + v;
      }
      std::memcpy(c[r] + j * W, &v, sizeof(V));
    }
}

// Rows of A per gemm_dot call, for 1, 2, 3 columns of C (the ISA files instantiate these).
constexpr int kGemmDotRows[3] = {6, 4, 3};

// Products with at most 3 columns of C whose A rows run in groups of W adjacent floats along k
// (a channel-last image: the channels of one tap): the vectors run along k, P rows and NN
// columns at a time, and each element of C is one sum of its W lanes at the end. out: P x NN.
template <typename V, int W, int P, int NN>
void gemm_dot(int K, const float* const* a, const int32_t* a_col, const float* __restrict bt, float* out) {
  V acc[P][NN];
  for (int p = 0; p < P; p++)
    for (int n = 0; n < NN; n++) acc[p][n] = V{};
#pragma GCC unroll 2
  for (int k = 0; k < K; k += W) {
    const int32_t at = a_col[k];
    V bv[NN];
#pragma GCC unroll 4
    for (int n = 0; n < NN; n++) std::memcpy(&bv[n], bt + int64_t(n) * K + k, sizeof(V));
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) {
      V av;
      std::memcpy(&av, a[p] + at, sizeof(V));
#pragma GCC unroll 4
      for (int n = 0; n < NN; n++) acc[p][n] += av * bv[n];
    }
  }
  for (int p = 0; p < P; p++)
    for (int n = 0; n < NN; n++) {
      float sum = 0;
      for (int i = 0; i < W; i++) sum += acc[p][n][i];
      out[p * NN + n] = sum;
    }
}

// The tile's arithmetic alone, for the machine's multiply-add peak: `rounds` of 10 independent
// chains acc = acc * b + c on V (more chains than an FMA's latency times its issue rate).
// Returns a value the compiler cannot drop.
template <typename V>
float fma_chains(long rounds) {
  V acc[10], b = V{} + 0.999f, c = V{} + 1e-4f;
  for (int i = 0; i < 10; i++) acc[i] = V{} + 0.01f * float(i);
  for (long r = 0; r < rounds; r++)
#pragma GCC unroll 10
    for (int i = 0; i < 10; i++) acc[i] = acc[i] * b + c;
  float sum = 0;
  for (int i = 0; i < 10; i++) sum += acc[i][0];
  return sum;
}

}  // namespace
}  // namespace dg::cpu
