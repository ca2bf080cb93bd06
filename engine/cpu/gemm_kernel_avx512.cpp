// The AVX-512 tile, 8 x 32 floats (16 accumulators of 16, 2 rows of B, a broadcast; 8 row
// pointers in general registers), built for AVX-512F whatever DG_CPU_ARCH is; used when the
// CPU has it.
// Its source is gemm_kernel.h's, which the tests also run built for AVX2
// (gemm_tile_avx512_on_avx2): a CPU without AVX-512 checks the logic, not these instructions.
#include <cstring>

#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#include "engine/cpu/gemm_kernel.h"

namespace dg::cpu {

typedef float v16f __attribute__((vector_size(64)));

void gemm_tile_avx512(int kc, const float* const* a, const int32_t* a_col, const float* b, float* const* c,
                      bool add) {
  gemm_tile<v16f, 16, 8, 2>(kc, a, a_col, b, c, add);
}

void gemm_tile_t_avx512(int kc, const float* a, const float* b, const int32_t* b_off, float* const* c, bool add) {
  gemm_tile_t<v16f, 16, 8, 2>(kc, a, b, b_off, c, add);
}

void gemm_dot1_avx512(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v16f, 16, kGemmDotRows[0], 1>(K, a, a_col, bt, out);
}
void gemm_dot2_avx512(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v16f, 16, kGemmDotRows[1], 2>(K, a, a_col, bt, out);
}
void gemm_dot3_avx512(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v16f, 16, kGemmDotRows[2], 3>(K, a, a_col, bt, out);
}

float fma_chains_avx512(long rounds) { return fma_chains<v16f>(rounds); }

}  // namespace dg::cpu
#pragma GCC pop_options
