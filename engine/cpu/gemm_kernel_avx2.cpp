// The AVX2 + FMA tile, 6 x 16 floats (12 accumulators of 8, 2 rows of B, a broadcast: 15 of
// the 16 ymm registers; 6 row pointers in general registers), built for AVX2 whatever
// DG_CPU_ARCH is; used when the CPU has it. Also the AVX-512 tile's logic (8 x 32) built for
// AVX2, which only the tests run: it checks gemm_kernel_avx512.cpp's source on CPUs without
// AVX-512.
#include <cstring>

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include "engine/cpu/gemm_kernel.h"

namespace dg::cpu {

typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

void gemm_tile_avx2(int kc, const float* const* a, const int32_t* a_col, const float* b, float* const* c,
                    bool add) {
  gemm_tile<v8f, 8, 6, 2>(kc, a, a_col, b, c, add);
}

void gemm_tile_avx512_on_avx2(int kc, const float* const* a, const int32_t* a_col, const float* b, float* const* c,
                              bool add) {
  gemm_tile<v16f, 16, 8, 2>(kc, a, a_col, b, c, add);
}

void gemm_tile_t_avx2(int kc, const float* a, const float* b, const int32_t* b_off, float* const* c, bool add) {
  gemm_tile_t<v8f, 8, 6, 2>(kc, a, b, b_off, c, add);
}

void gemm_dot1_avx2(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v8f, 8, kGemmDotRows[0], 1>(K, a, a_col, bt, out);
}
void gemm_dot2_avx2(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v8f, 8, kGemmDotRows[1], 2>(K, a, a_col, bt, out);
}
void gemm_dot3_avx2(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v8f, 8, kGemmDotRows[2], 3>(K, a, a_col, bt, out);
}

float fma_chains_avx2(long rounds) { return fma_chains<v8f>(rounds); }
void gemm_tile_t_avx512_on_avx2(int kc, const float* a, const float* b, const int32_t* b_off, float* const* c, bool add) {
  gemm_tile_t<v16f, 16, 8, 2>(kc, a, b, b_off, c, add);
}

void gemm_dot1_avx512_on_avx2(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v16f, 16, kGemmDotRows[0], 1>(K, a, a_col, bt, out);
}
void gemm_dot2_avx512_on_avx2(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v16f, 16, kGemmDotRows[1], 2>(K, a, a_col, bt, out);
}
void gemm_dot3_avx512_on_avx2(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out) {
  gemm_dot<v16f, 16, kGemmDotRows[2], 3>(K, a, a_col, bt, out);
}

float fma_chains_avx512_on_avx2(long rounds) { return fma_chains<v16f>(rounds); }

}  // namespace dg::cpu
#pragma GCC pop_options
