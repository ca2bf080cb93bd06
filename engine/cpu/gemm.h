// The CPU backend's matrix product: C (M x N) = A (M x K) * B (K x N), or C += A * B, float32
// with fused multiply-adds, threaded over chunks of C's rows.
//
// Every matrix is read (or written) through two offset tables: element (r, c) is
// data[row[r] + col[c]]. A dense row-major matrix is row[r] = r * ld, col[c] = c; the
// convolutions (kernels/conv/conv_gemm.cpp) describe their im2col matrices, their shifted
// windows of the output gradient and their NCHW outputs the same way. A is never copied: the
// register tile broadcasts each A(r, k) straight from row r's memory (an "indirect" GEMM), so
// no im2col is ever written out. Only B, the small operand of a convolution (its weights, or
// the output gradient for the filter gradient), is packed, once per product. Offsets are >= 0
// and every row[r] + col[c] must be a valid element (the convolutions pad their images first).
//
// Results do not depend on the thread count: each element of C is one thread's, summed over
// k in the same order (blocks of up to 1024, in order) whatever the split. A C with fewer
// columns than the tile is wide (a convolution with 1 or 3 output channels) is computed turned
// round, C^T = B^T A^T, the vectors along its rows; one with at most 3 columns whose A rows
// run along k (a channel-last image) as dot products along k.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dg::cpu {

struct OffsetMatrix {
  const float* data;
  const int32_t* row;  // one offset per row
  const int32_t* col;  // one offset per column
};

struct OutMatrix {
  float* data;
  const int32_t* row;
  const int32_t* col;
};

// The register tile for this CPU: MR x NR of C per call (engine/cpu/gemm_kernel.h).
// "avx512" (8 x 32), "avx2" (6 x 16, AVX2 + FMA) or "generic" (4 x 8, the compiler's baseline
// vectors). Chosen once from the CPU's features; DG_CPU_KERNEL=generic|avx2|avx512 forces one
// (an error names what the CPU lacks).
// The functions of one register tile, built once per ISA (gemm_kernel_<isa>.cpp).
// C tile (MR x NR) at rows c[0..MR) (each NR contiguous floats) = (add ? C : 0) + the sum over
// k < kc of a[r][a_col[k]] times packed B row k (NR floats).
using GemmTileFn = void(int kc, const float* const* a, const int32_t* a_col, const float* b, float* const* c, bool add);
// The same with the roles turned round, for C with few columns: C^T tile (MR x NR) = sum over
// k of a packed (kc x MR) times b + b_off[k] (NR adjacent floats).
using GemmTileTFn = void(int kc, const float* a, const float* b, const int32_t* b_off, float* const* c, bool add);
// For C with 1, 2, 3 columns (dot[N - 1]) and A's rows in runs of `lanes` along k: 6, 4, 3 rows
// of C (out: rows x N) = dot products along k of a[r] + a_col[k] and B^T's N rows of K floats.
using GemmDotFn = void(int K, const float* const* a, const int32_t* a_col, const float* bt, float* out);
// 10 x `rounds` multiply-adds of `lanes` floats each, on the same vectors (for the peak).
using FmaChainsFn = float(long rounds);

struct GemmKernel {
  const char* name;
  int mr, nr;
  GemmTileFn* run;
  GemmTileTFn* run_t;
  GemmDotFn* dot[3];
  FmaChainsFn* fma_chains;
  int lanes;
};
const GemmKernel& gemm_kernel();
const GemmKernel* find_gemm_kernel(const std::string& name);  // nullptr if not built
bool cpu_supports(const GemmKernel& k);
// The multiply-add peak of `threads` threads running k's vectors, in GFLOP/s (measured).
double fma_peak_gflop_s(const GemmKernel& k, int threads);

// Which way a product of this shape runs: "dot", "narrow" (turned round) or "wide" (tests).
const char* gemm_method(const GemmKernel& k, int M, int N, int K, const OffsetMatrix& A);

// C = A * B (accumulate: C += A * B). `workspace` (the caller's: engine/cpu takes it from the
// context's arena) holds packed B: at least gemm_workspace_floats() floats for the same sizes,
// A, threads and kernel, which gemm() checks. threads <= 0: OpenMP's thread count (small
// products use one). kernel: null for gemm_kernel() (tests pass each kernel in turn).
size_t gemm_workspace_floats(int M, int N, int K, const OffsetMatrix& A, int threads = 0,
                             const GemmKernel* kernel = nullptr);
void gemm(int M, int N, int K, OffsetMatrix A, OffsetMatrix B, OutMatrix C, bool accumulate, float* workspace,
          size_t workspace_floats, int threads = 0, const GemmKernel* kernel = nullptr);

}  // namespace dg::cpu
