// The CPU GEMM's driver (engine/cpu/gemm.h): loops around the register tile.
//
//   B packed whole, in NR-column panels per depth block (once, shared by the threads)
//   for each chunk of C's rows (threads take them one at a time; see Plan)
//     for each depth block (KC)
//       for each MR row panel of the chunk    A read in place: its rows stay in L1
//         for each NR column panel: tile      (B panels from L2 or L3)
//
// One parallel region per product; its one barrier is between packing B and the tiles.
//
// The table of the tiles built, and which one this CPU runs: engine/cpu/gemm_tile_choice.cpp.
#include "engine/cpu/gemm.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/cpu/gemm_kernel.h"  // (kGemmDotRows; its templates are instantiated in the ISA files)
#include "engine/cpu/transpose.h"
#include "engine/error.h"

namespace dg::cpu {

namespace {

constexpr int kMaxMR = 8, kMaxNR = 32;
constexpr int KC = 1024;  // depth of a block: a tile sums up to 1024 products per element

// Depth blocks of at most `most` and of nearly equal size (K = 1100 is 550 + 550, not 1024 + 76).
int depth_step(int K, int most = KC) {
  const int blocks = (K + most - 1) / most;
  return (K + blocks - 1) / blocks;
}

// The most depth a block of the wide product may have with N packed columns: every MR row
// panel streams its block of B (N x depth floats), which must stay in the L2 cache with room
// to spare (half of it), else each panel reads it again from L3. Measured on a 2 MiB L2
// (Xeon, AVX-512, 2 threads): dg's GEMM 1024^3 0.14-0.17 -> 0.26-0.27 TFLOP/s, a dcgan64 step
// 2-3% faster (its 512-channel layers), dcgan32 unchanged. Never below 256 (the C tile is
// loaded once per block); at most KC. The sums therefore depend on the L2 size too (as on
// the tile): bit for bit the same only on the same kind of machine.
int wide_depth(int padded_n) {
  static const long l2 = [] {
    const long bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return bytes > 0 ? bytes : 1L << 20;  // (unknown: 1 MiB)
  }();
  return int(std::clamp<long>(l2 / 2 / (long(padded_n) * long(sizeof(float))), 256, KC));
}

// Depth [k0, k0 + kc) x columns [n0, n0 + NR) of B as one panel: for each k the NR values of
// the panel's columns, zero past column N. Runs of 4 adjacent columns (a convolution's KW
// taps, or adjacent pixels) are copied, others gathered.
void pack_b_panel(const OffsetMatrix& B, int N, int k0, int kc, int n0, int NR, float* dst) {
  const int cols = std::min(NR, N - n0);
  const int32_t* co = B.col + n0;
  bool run[kMaxNR / 4];
  for (int q = 0; q < NR / 4; q++) {
    run[q] = (q + 1) * 4 <= cols;
    for (int j = 1; run[q] && j < 4; j++) run[q] = co[q * 4 + j] == co[q * 4] + j;
  }
  for (int k = 0; k < kc; k++, dst += NR) {
    const float* row = B.data + B.row[k0 + k];
    for (int q = 0; q < NR / 4; q++) {
      float* d = dst + q * 4;
      if (run[q]) {
        std::memcpy(d, row + co[q * 4], 4 * sizeof(float));
      } else {
        for (int j = 0; j < 4; j++) d[j] = q * 4 + j < cols ? row[co[q * 4 + j]] : 0.0f;
      }
    }
  }
}

// How a product is shared out: B packed once, whole (every thread reads it), then C's rows
// cut into chunks that the threads take one at a time. More chunks than threads: a thread that
// a busy machine delays holds up no other.
struct Plan {
  int threads = 1;
  int chunk = 0, chunks = 0;   // MR panels per chunk, and how many chunks
  int kstep = 0;               // depth of a block
  int n_panels = 0;            // NR panels of B
  size_t b_floats = 0;         // packed B
};

Plan plan_for(const GemmKernel& kern, int M, int N, int K, int threads) {
  Plan p;
  if (threads <= 0) threads = omp_get_max_threads();
  // Below ~4 M multiply-adds a second thread costs more than it saves.
  if (double(M) * N * K < double(1 << 22)) threads = 1;
  const int m_panels = (M + kern.mr - 1) / kern.mr;
  // Up to 16 chunks per thread, of at least 16 panels (or an even share when there are fewer).
  const int share = (m_panels + threads - 1) / threads;
  p.chunk = std::max(std::min(16, share), (m_panels + 16 * threads - 1) / (16 * threads));
  p.chunks = (m_panels + p.chunk - 1) / p.chunk;
  p.threads = std::max(1, std::min(threads, p.chunks));
  p.n_panels = (N + kern.nr - 1) / kern.nr;
  p.kstep = depth_step(std::max(K, 1), wide_depth(p.n_panels * kern.nr));
  p.b_floats = size_t(p.n_panels) * kern.nr * K;
  return p;
}

// Packed B: depth block pc (every block kstep deep but the last) holds every NR panel, kc x NR
// floats each, from pc * n_panels * NR on.
int64_t b_panel(const Plan& p, const GemmKernel& kern, int pc, int kc, int panel) {
  return int64_t(pc) * p.n_panels * kern.nr + int64_t(panel) * kc * kern.nr;
}

// One MR x NR tile of C at (m, n): straight into C when its NR columns are adjacent in
// memory (`adjacent`, see column_panels_adjacent), else through a local tile: column by column
// when its MR rows are adjacent in memory (`rows_adjacent`: an NCHW output, pixels along the
// rows), else element by element (rows past M, columns past N dropped).
void run_tile(const GemmKernel& kern, int kc, const float* const* a, const int32_t* a_col, const float* bp,
              const OutMatrix& C, int M, int N, int m, int n, bool add, bool adjacent, bool rows_adjacent) {
  const int rows = std::min(kern.mr, M - m), cols = std::min(kern.nr, N - n);
  const int32_t* co = C.col + n;
  alignas(64) float tile[kMaxMR * kMaxNR];
  float* rows_at[kMaxMR];
  if (adjacent) {
    for (int r = 0; r < kern.mr; r++)  // (rows past M: into the scratch tile, zeroed since add reads it)
      rows_at[r] = r < rows ? C.data + C.row[m + r] + co[0] : tile + r * kern.nr;
    if (add && rows < kern.mr) std::fill(tile + rows * kern.nr, tile + kern.mr * kern.nr, 0.0f);
    kern.run(kc, a, a_col, bp, rows_at, add);
    return;
  }
  for (int r = 0; r < kern.mr; r++) rows_at[r] = tile + r * kern.nr;
  kern.run(kc, a, a_col, bp, rows_at, false);
  if (rows_adjacent) {
    float* base = C.data + C.row[m];
    int j = 0;
    if (kern.mr == 8)  // 8 x 8 blocks turned in registers: one 8-float run per column
      for (; j + 8 <= cols; j += 8) {
        v8f_t v[8];
#pragma GCC unroll 8  // (else GCC copies through the stack in halves: a stalled reload)
        for (int r = 0; r < 8; r++) std::memcpy(&v[r], tile + r * kern.nr + j, sizeof(v8f_t));
        transpose8x8(v);
#pragma GCC unroll 8
        for (int q = 0; q < 8; q++) {
          float* col = base + co[j + q];
          if (add) {
            v8f_t old;
            std::memcpy(&old, col, sizeof(v8f_t));
            v[q] = old + v[q];
          }
          std::memcpy(col, &v[q], sizeof(v8f_t));
        }
      }
    for (; j < cols; j++) {
      float* col = base + co[j];
      const float* t = tile + j;
      if (add)
        for (int r = 0; r < kern.mr; r++) col[r] += t[r * kern.nr];
      else
        for (int r = 0; r < kern.mr; r++) col[r] = t[r * kern.nr];
    }
    return;
  }
  for (int r = 0; r < rows; r++) {
    float* row = C.data + C.row[m + r];
    const float* t = tile + r * kern.nr;
    for (int j = 0; j < cols; j++) row[co[j]] = add ? row[co[j]] + t[j] : t[j];
  }
}

// Whether each NR panel of C's columns is NR adjacent floats (a full panel).
std::vector<char> column_panels_adjacent(const GemmKernel& kern, const OutMatrix& C, int N) {
  std::vector<char> adjacent((N + kern.nr - 1) / kern.nr);
  for (size_t q = 0; q < adjacent.size(); q++) {
    const int n = int(q) * kern.nr;
    bool run = n + kern.nr <= N;
    for (int j = 1; run && j < kern.nr; j++) run = C.col[n + j] == C.col[n] + j;
    adjacent[q] = run;
  }
  return adjacent;
}

// C's rows [m_begin, m_end), every column, on this thread, with B packed.
void run_chunk(const GemmKernel& kern, const Plan& p, int M, int N, int K, const OffsetMatrix& A, const float* bp,
               const OutMatrix& C, const char* adjacent, bool accumulate, int m_begin, int m_end) {
  for (int pc = 0; pc < K; pc += p.kstep) {
    const int kc = std::min(p.kstep, K - pc);
    const bool add = accumulate || pc > 0;
    for (int m = m_begin; m < m_end; m += kern.mr) {
      // Row pointers of A; rows past M repeat the last row (read, never stored).
      const float* a[kMaxMR];
      for (int r = 0; r < kern.mr; r++) a[r] = A.data + A.row[std::min(m + r, M - 1)];
      bool rows_adjacent = m + kern.mr <= M;
      for (int r = 1; rows_adjacent && r < kern.mr; r++) rows_adjacent = C.row[m + r] == C.row[m] + r;
      for (int n = 0; n < N; n += kern.nr)
        run_tile(kern, kc, a, A.col + pc, bp + b_panel(p, kern, pc, kc, n / kern.nr), C, M, N, m, n, add,
                 adjacent[n / kern.nr], rows_adjacent);
    }
  }
}

// Narrow C (fewer columns than a tile is wide): C^T = B^T A^T, so that the vectors run along
// C's rows, NR of them per tile (for a convolution: adjacent pixels), and the broadcasts over
// its few columns (channels). B^T is packed in MR-row panels per depth block; a tile reads its
// NR rows of A as vectors in place when they are adjacent in memory, else gathers them first.
// Pays when it multiplies fewer zeros, and A's rows come in runs of NR adjacent ones (else each
// tile would gather its rows first, which costs more than the zeros).
bool narrow_pays(const GemmKernel& kern, int M, int N, const OffsetMatrix& A) {
  if (M < kern.nr) return false;
  const int wide = (N + kern.nr - 1) / kern.nr * kern.nr, turned = (N + kern.mr - 1) / kern.mr * kern.mr;
  if (turned >= wide) return false;
  int adjacent = 0, panels = 0;
  for (int m = 0; m + kern.nr <= M; m += kern.nr, panels++) {
    bool run = true;
    for (int j = 1; run && j < kern.nr; j++) run = A.row[m + j] == A.row[m] + j;
    adjacent += run;
  }
  return 2 * adjacent >= panels;
}

struct NarrowPlan {
  int threads = 1, chunk = 0, chunks = 0, kstep = 0, n_panels = 0;
  size_t bt_floats = 0, gather_floats = 0;
};

NarrowPlan narrow_plan(const GemmKernel& kern, int M, int N, int K, int threads) {
  NarrowPlan p;
  if (threads <= 0) threads = omp_get_max_threads();
  if (double(M) * N * K < double(1 << 22)) threads = 1;
  const int m_panels = (M + kern.nr - 1) / kern.nr;
  const int share = (m_panels + threads - 1) / threads;
  p.chunk = std::max(std::min(16, share), (m_panels + 16 * threads - 1) / (16 * threads));
  p.chunks = (m_panels + p.chunk - 1) / p.chunk;
  p.threads = std::max(1, std::min(threads, p.chunks));
  p.kstep = depth_step(K);
  p.n_panels = (N + kern.mr - 1) / kern.mr;
  p.bt_floats = (size_t(p.n_panels) * kern.mr * K + 15) / 16 * 16;
  p.gather_floats = size_t(p.kstep) * kern.nr + kern.nr;
  return p;
}

void gemm_narrow(const GemmKernel& kern, int M, int N, int K, const OffsetMatrix& A, const OffsetMatrix& B,
                 const OutMatrix& C, bool accumulate, float* workspace, int threads) {
  const NarrowPlan p = narrow_plan(kern, M, N, K, threads);
  float* bt = workspace;
  auto panel_at = [&](int pc, int kc, int q) { return int64_t(pc) * p.n_panels * kern.mr + int64_t(q) * kc * kern.mr; };
  const int jobs = ((K + p.kstep - 1) / p.kstep) * p.n_panels;
#pragma omp parallel num_threads(p.threads) if (p.threads > 1)
  {
#pragma omp for schedule(static)
    for (int job = 0; job < jobs; job++) {  // B^T's panels: for each k the MR values B(k, q MR + r)
      const int pc = job / p.n_panels * p.kstep, q = job % p.n_panels, kc = std::min(p.kstep, K - pc);
      float* dst = bt + panel_at(pc, kc, q);
      for (int k = 0; k < kc; k++)
        for (int r = 0; r < kern.mr; r++) {
          const int n = q * kern.mr + r;
          dst[k * kern.mr + r] = n < N ? B.data[B.row[pc + k] + B.col[n]] : 0.0f;
        }
    }
    float* gathered = bt + p.bt_floats + size_t(omp_get_thread_num()) * p.gather_floats;
    int32_t gathered_off[KC];
    for (int k = 0; k < KC; k++) gathered_off[k] = k * kern.nr;
#pragma omp for schedule(dynamic, 1)
    for (int chunk = 0; chunk < p.chunks; chunk++)
      for (int m = chunk * p.chunk * kern.nr; m < std::min<int64_t>(M, int64_t(chunk + 1) * p.chunk * kern.nr);
           m += kern.nr) {
        const int rows = std::min(kern.nr, M - m);
        bool adjacent = rows == kern.nr;  // A's rows m.. as one vector per k, and C's rows likewise
        for (int j = 1; adjacent && j < rows; j++) adjacent = A.row[m + j] == A.row[m] + j;
        bool c_adjacent = rows == kern.nr;
        for (int j = 1; c_adjacent && j < rows; j++) c_adjacent = C.row[m + j] == C.row[m] + j;
        for (int pc = 0; pc < K; pc += p.kstep) {
          const int kc = std::min(p.kstep, K - pc);
          const float* base = A.data + A.row[m];
          const int32_t* off = A.col + pc;
          if (!adjacent) {
            for (int k = 0; k < kc; k++)
              for (int j = 0; j < kern.nr; j++)
                gathered[k * kern.nr + j] = j < rows ? A.data[A.row[m + j] + A.col[pc + k]] : 0.0f;
            base = gathered;
            off = gathered_off;
          }
          const bool add = accumulate || pc > 0;
          for (int q = 0; q < p.n_panels; q++) {
            const int cols = std::min(kern.mr, N - q * kern.mr);
            alignas(64) float tile[kMaxMR * kMaxNR];
            float* rows_at[kMaxMR];
            for (int r = 0; r < kern.mr; r++)
              rows_at[r] = c_adjacent && r < cols ? C.data + C.col[q * kern.mr + r] + C.row[m] : tile + r * kern.nr;
            if (add && c_adjacent && cols < kern.mr)  // (the scratch rows are read: zero them)
              std::fill(tile + cols * kern.nr, tile + kern.mr * kern.nr, 0.0f);
            kern.run_t(kc, bt + panel_at(pc, kc, q), base, off, rows_at, add && c_adjacent);
            if (c_adjacent) continue;
            for (int r = 0; r < cols; r++) {
              const int32_t col = C.col[q * kern.mr + r];
              for (int j = 0; j < rows; j++) {
                float& out = C.data[C.row[m + j] + col];
                out = add ? out + tile[r * kern.nr + j] : tile[r * kern.nr + j];
              }
            }
          }
        }
      }
  }
}

// At most 3 columns, and A's rows in groups of `lanes` adjacent floats along k (a channel-last
// image): dot products along k (GemmKernel::dot), no zero columns multiplied at all.

bool dot_applies(const GemmKernel& kern, int N, int K, const OffsetMatrix& A) {
  if (N > 3 || K % kern.lanes != 0) return false;
  for (int k = 0; k < K; k += kern.lanes)
    for (int j = 1; j < kern.lanes; j++)
      if (A.col[k + j] != A.col[k] + j) return false;
  return true;
}

size_t dot_workspace_floats(int N, int K) { return size_t(N) * K + 16; }

void gemm_dot(const GemmKernel& kern, int M, int N, int K, const OffsetMatrix& A, const OffsetMatrix& B,
              const OutMatrix& C, bool accumulate, float* bt, int threads) {
  if (threads <= 0) threads = omp_get_max_threads();
  if (double(M) * N * K < double(1 << 22)) threads = 1;
  for (int n = 0; n < N; n++)  // B^T: row n holds B's column n
    for (int k = 0; k < K; k++) bt[int64_t(n) * K + k] = B.data[B.row[k] + B.col[n]];
  const int P = kGemmDotRows[N - 1], chunk = 16 * P, chunks = (M + chunk - 1) / chunk;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1 && chunks > 1)
  for (int c = 0; c < chunks; c++)
    for (int m = c * chunk; m < std::min<int64_t>(M, int64_t(c + 1) * chunk); m += P) {
      const float* a[6];
      for (int p = 0; p < P; p++) a[p] = A.data + A.row[std::min(m + p, M - 1)];  // (past M: repeated, dropped)
      float out[6 * 3];
      kern.dot[N - 1](K, a, A.col, bt, out);
      for (int p = 0; p < std::min(P, M - m); p++)
        for (int n = 0; n < N; n++) {
          float& dst = C.data[C.row[m + p] + C.col[n]];
          dst = accumulate ? dst + out[p * N + n] : out[p * N + n];
        }
    }
}

}  // namespace

const char* gemm_method(const GemmKernel& k, int M, int N, int K, const OffsetMatrix& A) {
  if (dot_applies(k, N, K, A)) return "dot";
  return narrow_pays(k, M, N, A) ? "narrow" : "wide";
}

size_t gemm_workspace_floats(int M, int N, int K, const OffsetMatrix& A, int threads, const GemmKernel* kernel) {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  const GemmKernel& kern = kernel ? *kernel : gemm_kernel();
  if (dot_applies(kern, N, K, A)) return dot_workspace_floats(N, K);
  if (narrow_pays(kern, M, N, A)) {
    const NarrowPlan p = narrow_plan(kern, M, N, K, threads);
    return p.bt_floats + size_t(p.threads) * p.gather_floats + 16;
  }
  return plan_for(kern, M, N, K, threads).b_floats + 16;  // (+ slack to align it)
}

void gemm(int M, int N, int K, OffsetMatrix A, OffsetMatrix B, OutMatrix C, bool accumulate, float* workspace,
          size_t workspace_floats, int threads, const GemmKernel* kernel) {
  DG_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm: bad sizes ", M, " x ", N, " x ", K);
  if (M == 0 || N == 0) return;
  const GemmKernel& kern = kernel ? *kernel : gemm_kernel();
  const size_t needed = gemm_workspace_floats(M, N, K, A, threads, &kern);
  DG_CHECK(workspace_floats >= needed, "gemm: a workspace of ", workspace_floats, " floats for a ", M, " x ", N, " x ",
           K, " product on ", threads, " thread(s) with the ", kern.name, " tile, which needs ", needed);
  if (K == 0) {  // an empty sum
    for (int r = 0; r < M && !accumulate; r++)
      for (int c = 0; c < N; c++) C.data[C.row[r] + C.col[c]] = 0.0f;
    return;
  }
  workspace += (64 - reinterpret_cast<uintptr_t>(workspace) % 64) % 64 / sizeof(float);
  if (dot_applies(kern, N, K, A)) return gemm_dot(kern, M, N, K, A, B, C, accumulate, workspace, threads);
  if (narrow_pays(kern, M, N, A)) return gemm_narrow(kern, M, N, K, A, B, C, accumulate, workspace, threads);
  const Plan p = plan_for(kern, M, N, K, threads);
  float* bp = workspace;
  const int b_jobs = ((K + p.kstep - 1) / p.kstep) * p.n_panels;
  const std::vector<char> adjacent = column_panels_adjacent(kern, C, N);
#pragma omp parallel num_threads(p.threads) if (p.threads > 1)
  {
#pragma omp for schedule(static)
    for (int job = 0; job < b_jobs; job++) {
      const int pc = job / p.n_panels * p.kstep, panel = job % p.n_panels, kc = std::min(p.kstep, K - pc);
      pack_b_panel(B, N, pc, kc, panel * kern.nr, kern.nr, bp + b_panel(p, kern, pc, kc, panel));
    }
#pragma omp for schedule(dynamic, 1)
    for (int c = 0; c < p.chunks; c++)
      run_chunk(kern, p, M, N, K, A, bp, C, adjacent.data(), accumulate, c * p.chunk * kern.mr,
                int(std::min<int64_t>(M, int64_t(c + 1) * p.chunk * kern.mr)));
  }
}

}  // namespace dg::cpu
