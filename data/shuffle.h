// The seeded shuffle behind every epoch's order. Self-contained on purpose: std::shuffle
// and the std distributions give different sequences on different standard libraries,
// and a resumed run must see the same order as the run it resumes, wherever it runs.
#pragma once
#include <cstdint>
#include <vector>

namespace dg::data {

// splitmix64 (Steele, Lea & Flood, 2014; the generator Vigna recommends for seeding):
// a 64-bit counter stepped by the golden-ratio constant, then a bijective mixer.
struct SplitMix64 {
  uint64_t state = 0;
  uint64_t next();
  // Uniform in [0, n), n >= 1, without modulo bias (rejection of the short top range).
  uint64_t below(uint64_t n);
};

// splitmix64's output mixer alone: a bijection that scatters nearby inputs.
uint64_t mix64(uint64_t x);

// A permutation of 0..n-1 that depends only on (seed, epoch): Fisher-Yates driven by
// SplitMix64{seed ^ mix64(epoch)}, swapping position i (from n-1 down to 1) with
// below(i + 1).
std::vector<int32_t> epoch_permutation(uint64_t seed, int64_t epoch, int32_t n);

}  // namespace dg::data
