// The CPU GEMM's driver (engine/cpu/gemm.h): BLIS's loops around the register tile.
//
//   for each column block of C (NC)          B block (KC x NC) packed: L3
//     for each depth block (KC)
//       for each row block (MC)              A block (MC x KC) packed: L2
//         for each NR column panel           B panel (KC x NR): L1
//           for each MR row panel: tile
//
// Threads take disjoint ranges of C's columns (or rows, when C is tall and narrow): one
// parallel region per product, no barrier inside it.
#include "engine/cpu/gemm.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "engine/error.h"

namespace dg::cpu {

void gemm_tile_generic(int kc, const float* a, const float* b, float* const* c, bool add);
float fma_chains_generic(long rounds);
#if defined(__x86_64__)
void gemm_tile_avx2(int kc, const float* a, const float* b, float* const* c, bool add);
void gemm_tile_avx512(int kc, const float* a, const float* b, float* const* c, bool add);
void gemm_tile_avx512_on_avx2(int kc, const float* a, const float* b, float* const* c, bool add);
float fma_chains_avx2(long rounds);
float fma_chains_avx512(long rounds);
float fma_chains_avx512_on_avx2(long rounds);
#endif

namespace {

const GemmKernel kKernels[] = {
#if defined(__x86_64__)
    {"avx512", 14, 32, gemm_tile_avx512, fma_chains_avx512, 16},
    {"avx2", 6, 16, gemm_tile_avx2, fma_chains_avx2, 8},
    {"avx512-on-avx2", 14, 32, gemm_tile_avx512_on_avx2, fma_chains_avx512_on_avx2, 16},  // tests only: never chosen
#endif
    {"generic", 4, 8, gemm_tile_generic, fma_chains_generic, 4},
};

constexpr int kMaxMR = 16, kMaxNR = 32;
constexpr int KC = 256;   // depth of a block: a KC x 16 B panel (16 KB) and a 6 x KC A panel in L1
constexpr int MC = 168;   // rows of an A block (MC x KC: 168 KB, in L2); a multiple of 6 and 14
constexpr int NC = 3072;  // columns of a B block (KC x NC: 3 MB, in L3)

const GemmKernel& choose_kernel() {
  if (const char* forced = std::getenv("DG_CPU_KERNEL")) {
    const GemmKernel* k = find_gemm_kernel(forced);
    DG_CHECK(k != nullptr, "DG_CPU_KERNEL=", forced, ": no such CPU kernel in this build (avx512, avx2, generic)");
    DG_CHECK(cpu_supports(*k), "DG_CPU_KERNEL=", forced, ": this CPU does not support it");
    return *k;
  }
  for (const GemmKernel& k : kKernels)
    if (std::strcmp(k.name, "avx512-on-avx2") != 0 && cpu_supports(k)) return k;
  return kKernels[std::size(kKernels) - 1];
}

// Depth blocks of nearly equal size (K = 300 is 150 + 150, not 256 + 44): fewer passes over C.
int depth_step(int K) {
  const int blocks = (K + KC - 1) / KC;
  return (K + blocks - 1) / blocks;
}

// Rows [m0, m0 + mc) x depth [k0, k0 + kc) of A as panels of MR rows: for each k the MR values
// of the panel's rows, zero past row M. Row by row: each row's reads go along its memory
// (convolutions' rows are runs of adjacent pixels), which the hardware prefetches.
void pack_a(const OffsetMatrix& A, int M, int m0, int mc, int k0, int kc, int MR, float* dst) {
  const int32_t* co = A.col + k0;
  for (int p = 0; p < mc; p += MR, dst += int64_t(kc) * MR) {
    const int rows = std::min(MR, M - (m0 + p));
    for (int i = 0; i < rows; i++) {
      const float* row = A.data + A.row[m0 + p + i];
      for (int k = 0; k < kc; k++) dst[k * MR + i] = row[co[k]];
    }
    for (int i = rows; i < MR; i++)
      for (int k = 0; k < kc; k++) dst[k * MR + i] = 0.0f;
  }
}

// Depth [k0, k0 + kc) x columns [n0, n0 + nc) of B as panels of NR columns: for each k the NR
// values of the panel's columns, zero past column N. Runs of 4 adjacent columns (a
// convolution's adjacent pixels, or its KW taps) are copied, others gathered.
void pack_b(const OffsetMatrix& B, int N, int k0, int kc, int n0, int nc, int NR, float* dst) {
  for (int p = 0; p < nc; p += NR) {
    const int cols = std::min(NR, N - (n0 + p));
    const int32_t* co = B.col + n0 + p;
    bool run[kMaxNR / 4];
    for (int q = 0; q < NR / 4; q++) {
      run[q] = (q + 1) * 4 <= cols;
      for (int j = 1; run[q] && j < 4; j++) run[q] = co[q * 4 + j] == co[q * 4] + j;
    }
    for (int k = 0; k < kc; k++) {
      const float* row = B.data + B.row[k0 + k];
      for (int q = 0; q < NR / 4; q++) {
        float* d = dst + q * 4;
        if (run[q]) {
          std::memcpy(d, row + co[q * 4], 4 * sizeof(float));
        } else {
          for (int j = 0; j < 4; j++) d[j] = q * 4 + j < cols ? row[co[q * 4 + j]] : 0.0f;
        }
      }
      dst += NR;
    }
  }
}

// One MR x NR tile of C at (m, n): straight into C when its NR columns are adjacent in
// memory, else through a local tile and element by element (rows past M, columns past N
// dropped).
void run_tile(const GemmKernel& kern, int kc, const float* ap, const float* bp, const OutMatrix& C, int M, int N,
              int m, int n, bool add) {
  const int rows = std::min(kern.mr, M - m), cols = std::min(kern.nr, N - n);
  const int32_t* co = C.col + n;
  bool adjacent = cols == kern.nr;
  for (int j = 1; adjacent && j < cols; j++) adjacent = co[j] == co[0] + j;
  alignas(64) float tile[kMaxMR * kMaxNR];
  float* rows_at[kMaxMR];
  if (adjacent) {
    for (int r = 0; r < kern.mr; r++)  // (rows past M: into the scratch tile)
      rows_at[r] = r < rows ? C.data + C.row[m + r] + co[0] : tile + r * kern.nr;
    kern.run(kc, ap, bp, rows_at, add);
    return;
  }
  for (int r = 0; r < kern.mr; r++) rows_at[r] = tile + r * kern.nr;
  kern.run(kc, ap, bp, rows_at, false);
  for (int r = 0; r < rows; r++) {
    float* row = C.data + C.row[m + r];
    const float* t = tile + r * kern.nr;
    for (int j = 0; j < cols; j++) row[co[j]] = add ? row[co[j]] + t[j] : t[j];
  }
}

// C's rows [m_begin, m_end) x columns [n_begin, n_end), on this thread.
void gemm_range(const GemmKernel& kern, int M, int N, int K, const OffsetMatrix& A, const OffsetMatrix& B,
                const OutMatrix& C, bool accumulate, int m_begin, int m_end, int n_begin, int n_end, float* ap,
                float* bp) {
  const int kstep = depth_step(K);
  const int mc_max = MC / kern.mr * kern.mr;
  for (int jc = n_begin; jc < n_end; jc += NC) {
    const int nc = std::min(NC, n_end - jc);
    for (int pc = 0; pc < K; pc += kstep) {
      const int kc = std::min(kstep, K - pc);
      const bool add = accumulate || pc > 0;
      pack_b(B, N, pc, kc, jc, nc, kern.nr, bp);
      for (int ic = m_begin; ic < m_end; ic += mc_max) {
        const int mc = std::min(mc_max, m_end - ic);
        pack_a(A, M, ic, mc, pc, kc, kern.mr, ap);
        for (int jr = 0; jr < nc; jr += kern.nr)
          for (int ir = 0; ir < mc; ir += kern.mr)
            run_tile(kern, kc, ap + int64_t(ir) * kc, bp + int64_t(jr) * kc, C, M, N, ic + ir, jc + jr, add);
      }
    }
  }
}

}  // namespace

const GemmKernel* find_gemm_kernel(const std::string& name) {
  for (const GemmKernel& k : kKernels)
    if (name == k.name) return &k;
  return nullptr;
}

bool cpu_supports(const GemmKernel& k) {
#if defined(__x86_64__)
  const std::string name = k.name;
  if (name == "avx512") return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  if (name == "avx2" || name == "avx512-on-avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  (void)k;
#endif
  return true;
}

double fma_peak_gflop_s(const GemmKernel& k, int threads) {
  const long rounds = 20'000'000;
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    const double t0 = omp_get_wtime();
    float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    total += k.fma_chains(rounds);
    best = std::max(best, 10.0 * rounds * k.lanes * 2 * threads / (omp_get_wtime() - t0) / 1e9);
    DG_CHECK(std::isfinite(total), "fma_peak_gflop_s: the chains overflowed (", total, ")");  // (and uses them)
  }
  return best;
}

const GemmKernel& gemm_kernel() {
  static const GemmKernel& chosen = choose_kernel();
  return chosen;
}

// The threads a product of this size uses, and how C is split between them.
struct Split {
  int threads;
  bool rows;  // split C's rows in MR panels (else its columns in NR panels)
  int units;  // panels to share out
};

static Split split_for(const GemmKernel& kern, int M, int N, int K, int threads) {
  if (threads <= 0) threads = omp_get_max_threads();
  // Below ~4 M multiply-adds a second thread costs more than it saves.
  if (double(M) * N * K < double(1 << 22)) threads = 1;
  const int n_panels = (N + kern.nr - 1) / kern.nr, m_panels = (M + kern.mr - 1) / kern.mr;
  Split s;
  s.rows = n_panels < 2 * threads && m_panels > n_panels;
  s.units = s.rows ? m_panels : n_panels;
  s.threads = std::max(1, std::min(threads, s.units));
  return s;
}

// Per thread: an A block (MC x kstep) and a B block (up to NC + NR columns x kstep), each
// starting on a cache line (16 floats), plus the slack to align the first.
static size_t a_block_floats(int K) { return (size_t(MC) * depth_step(K) + 15) / 16 * 16; }
static size_t per_thread_floats(int N, int K) {
  return a_block_floats(K) + (size_t(std::min(NC, N) + kMaxNR) * depth_step(K) + 15) / 16 * 16;
}

size_t gemm_workspace_floats(int M, int N, int K, int threads, const GemmKernel* kernel) {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  const Split s = split_for(kernel ? *kernel : gemm_kernel(), M, N, K, threads);
  return size_t(s.threads) * per_thread_floats(N, K) + 16;
}

void gemm(int M, int N, int K, OffsetMatrix A, OffsetMatrix B, OutMatrix C, bool accumulate, float* workspace,
          int threads, const GemmKernel* kernel) {
  DG_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm: bad sizes ", M, " x ", N, " x ", K);
  if (M == 0 || N == 0) return;
  const GemmKernel& kern = kernel ? *kernel : gemm_kernel();
  if (K == 0) {  // an empty sum
    for (int r = 0; r < M && !accumulate; r++)
      for (int c = 0; c < N; c++) C.data[C.row[r] + C.col[c]] = 0.0f;
    return;
  }
  const Split s = split_for(kern, M, N, K, threads);
  const size_t per_thread = per_thread_floats(N, K), a_floats = a_block_floats(K);
  workspace += (64 - reinterpret_cast<uintptr_t>(workspace) % 64) % 64 / sizeof(float);
#pragma omp parallel num_threads(s.threads) if (s.threads > 1)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int u0 = int(int64_t(s.units) * t / nt), u1 = int(int64_t(s.units) * (t + 1) / nt);
    float* ap = workspace + size_t(t) * per_thread;
    float* bp = ap + a_floats;
    if (s.rows)
      gemm_range(kern, M, N, K, A, B, C, accumulate, u0 * kern.mr, std::min(M, u1 * kern.mr), 0, N, ap, bp);
    else
      gemm_range(kern, M, N, K, A, B, C, accumulate, 0, M, u0 * kern.nr, std::min(N, u1 * kern.nr), ap, bp);
  }
}

}  // namespace dg::cpu
