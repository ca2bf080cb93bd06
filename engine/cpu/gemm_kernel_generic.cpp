// The portable tile: 4 x 8 floats in 16-byte vectors, for CPUs without AVX2. Built with the
// project's flags, like the rest of the engine: SSE2 (and separate multiplies and adds) only
// with DG_CPU_ARCH=x86-64; the default x86-64-v3 build gives it AVX encodings and FMA; NEON on
// AArch64.
#include "engine/cpu/gemm_kernel.h"

namespace dg::cpu {

typedef float v4f __attribute__((vector_size(16)));

void gemm_tile_generic(int kc, const float* const* a, const int32_t* a_col, const float* b, float* const* c,
                       bool add) {
  gemm_tile<v4f, 4, 4, 2>(kc, a, a_col, b, c, add);
}

void gemm_tile_t_generic(int kc, const float* a, const float* b, const int32_t* b_off, float* const* c, bool add) {
  gemm_tile_t<v4f, 4, 4, 2>(kc, a, b, b_off, c, add);
}

void gemm_dot1_generic(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v4f, 4, kGemmDotRows[0], 1>(K, a, a_col, bt, out);
}
void gemm_dot2_generic(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v4f, 4, kGemmDotRows[1], 2>(K, a, a_col, bt, out);
}
void gemm_dot3_generic(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v4f, 4, kGemmDotRows[2], 3>(K, a, a_col, bt, out);
}

float fma_chains_generic(long rounds) { return fma_chains<v4f>(rounds); }

}  // namespace dg::cpu
