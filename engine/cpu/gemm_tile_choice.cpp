// The CPU GEMM's register tiles (engine/cpu/gemm.h): the table of those built here (one
// source per ISA, gemm_kernel_{generic,avx2,avx512}.cpp), which one this CPU runs (or
// DG_CPU_KERNEL forces), and the multiply-add peak of a tile's vectors.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/cpu/gemm.h"
#include "engine/error.h"

namespace dg::cpu {

// Each ISA's tile (gemm_kernel_<isa>.cpp; avx512_on_avx2: AVX-512's tile shape in AVX2, for tests).
GemmTileFn gemm_tile_generic, gemm_tile_avx2, gemm_tile_avx512, gemm_tile_avx512_on_avx2;
GemmTileTFn gemm_tile_t_generic, gemm_tile_t_avx2, gemm_tile_t_avx512, gemm_tile_t_avx512_on_avx2;
GemmDotFn gemm_dot1_generic, gemm_dot2_generic, gemm_dot3_generic, gemm_dot1_avx2, gemm_dot2_avx2, gemm_dot3_avx2,
    gemm_dot1_avx512, gemm_dot2_avx512, gemm_dot3_avx512, gemm_dot1_avx512_on_avx2, gemm_dot2_avx512_on_avx2,
    gemm_dot3_avx512_on_avx2;
FmaChainsFn fma_chains_generic, fma_chains_avx2, fma_chains_avx512, fma_chains_avx512_on_avx2;

namespace {

const GemmKernel kKernels[] = {
#if defined(__x86_64__)
    {"avx512", 8, 32, gemm_tile_avx512, gemm_tile_t_avx512, {gemm_dot1_avx512, gemm_dot2_avx512, gemm_dot3_avx512},
     fma_chains_avx512, 16},
    {"avx2", 6, 16, gemm_tile_avx2, gemm_tile_t_avx2, {gemm_dot1_avx2, gemm_dot2_avx2, gemm_dot3_avx2},
     fma_chains_avx2, 8},
    // tests only: never chosen
    {"avx512-on-avx2", 8, 32, gemm_tile_avx512_on_avx2, gemm_tile_t_avx512_on_avx2,
     {gemm_dot1_avx512_on_avx2, gemm_dot2_avx512_on_avx2, gemm_dot3_avx512_on_avx2}, fma_chains_avx512_on_avx2, 16},
#endif
    {"generic", 4, 8, gemm_tile_generic, gemm_tile_t_generic, {gemm_dot1_generic, gemm_dot2_generic, gemm_dot3_generic},
     fma_chains_generic, 4},
};

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
    int team = 1;
#pragma omp parallel num_threads(std::max(threads, 1)) reduction(+ : total)
    {
      total += k.fma_chains(rounds);
#pragma omp single
      team = omp_get_num_threads();
    }
    best = std::max(best, 10.0 * rounds * k.lanes * 2 * team / (omp_get_wtime() - t0) / 1e9);
    DG_CHECK(std::isfinite(total), "fma_peak_gflop_s: the chains overflowed (", total, ")");  // (and uses them)
  }
  return best;
}

const GemmKernel& gemm_kernel() {
  static const GemmKernel& chosen = choose_kernel();
  return chosen;
}

}  // namespace dg::cpu
