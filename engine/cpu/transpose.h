// Blocked transposition of float matrices, 8 x 8 at a time in registers (GCC vector
// extensions: three rounds of two-input shuffles, unpack / shuffle / lane swap on AVX).
// The convolutions' layout changes (kernels/conv/conv_gemm.cpp) and the GEMM's tiles stored
// column by column (engine/cpu/gemm.cpp).
#pragma once
#include <cstdint>
#include <cstring>

namespace dg::cpu {

typedef float v8f_t __attribute__((vector_size(32)));

// r[i][j] -> r[j][i].
inline void transpose8x8(v8f_t r[8]) {
  v8f_t t[8], u[8];
  for (int i = 0; i < 4; i++) {  // pairs of rows interleaved
    t[2 * i] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[2 * i + 1] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 2; i++)  // quads
    for (int h = 0; h < 2; h++) {
      u[4 * i + 2 * h] = __builtin_shufflevector(t[4 * i + h], t[4 * i + 2 + h], 0, 1, 8, 9, 4, 5, 12, 13);
      u[4 * i + 2 * h + 1] = __builtin_shufflevector(t[4 * i + h], t[4 * i + 2 + h], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int j = 0; j < 4; j++) {  // halves
    r[j] = __builtin_shufflevector(u[j], u[4 + j], 0, 1, 2, 3, 8, 9, 10, 11);
    r[4 + j] = __builtin_shufflevector(u[j], u[4 + j], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// dst[j * dst_ld + i] = src[i * src_ld + j] for i < rows, j < cols: 8 x 8 blocks in
// registers, the edges element by element.
inline void transpose(const float* src, int64_t src_ld, int rows, int cols, float* dst, int64_t dst_ld) {
  int i = 0;
  for (; i + 8 <= rows; i += 8) {
    int j = 0;
    for (; j + 8 <= cols; j += 8) {
      v8f_t r[8];
#pragma GCC unroll 8  // (else GCC copies through the stack in halves: a stalled reload)
      for (int q = 0; q < 8; q++) std::memcpy(&r[q], src + (i + q) * src_ld + j, sizeof(v8f_t));
      transpose8x8(r);
#pragma GCC unroll 8
      for (int q = 0; q < 8; q++) std::memcpy(dst + (j + q) * dst_ld + i, &r[q], sizeof(v8f_t));
    }
    for (; j < cols; j++)
      for (int q = 0; q < 8; q++) dst[j * dst_ld + i + q] = src[(i + q) * src_ld + j];
  }
  for (; i < rows; i++)
    for (int j = 0; j < cols; j++) dst[j * dst_ld + i] = src[i * src_ld + j];
}

// dst[j * dst_ld + i] += src[i * src_ld + j] for i < rows, j < cols (the same blocks).
inline void add_transposed(const float* src, int64_t src_ld, int rows, int cols, float* dst, int64_t dst_ld) {
  int i = 0;
  for (; i + 8 <= rows; i += 8) {
    int j = 0;
    for (; j + 8 <= cols; j += 8) {
      v8f_t r[8];
#pragma GCC unroll 8  // (else GCC copies through the stack in halves: a stalled reload)
      for (int q = 0; q < 8; q++) std::memcpy(&r[q], src + (i + q) * src_ld + j, sizeof(v8f_t));
      transpose8x8(r);
#pragma GCC unroll 8
      for (int q = 0; q < 8; q++) {
        v8f_t d;
        std::memcpy(&d, dst + (j + q) * dst_ld + i, sizeof(v8f_t));
        d += r[q];
        std::memcpy(dst + (j + q) * dst_ld + i, &d, sizeof(v8f_t));
      }
    }
    for (; j < cols; j++)
      for (int q = 0; q < 8; q++) dst[j * dst_ld + i + q] += src[(i + q) * src_ld + j];
  }
  for (; i < rows; i++)
    for (int j = 0; j < cols; j++) dst[j * dst_ld + i] += src[i * src_ld + j];
}

}  // namespace dg::cpu
