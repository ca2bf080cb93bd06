#include "data/shuffle.h"

#include <cstddef>
#include <utility>

namespace dg::data {

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::next() {
  state += 0x9E3779B97F4A7C15ull;
  return mix64(state);
}

uint64_t SplitMix64::below(uint64_t n) {
  // 2^64 mod n: the outputs below it are the incomplete last copy of [0, n).
  const uint64_t reject_below = (0 - n) % n;
  for (;;) {
    uint64_t r = next();
    if (r >= reject_below) return r % n;
  }
}

std::vector<int32_t> epoch_permutation(uint64_t seed, int64_t epoch, int32_t n) {
  std::vector<int32_t> p(n > 0 ? size_t(n) : 0);
  for (int32_t i = 0; i < n; i++) p[size_t(i)] = i;
  SplitMix64 rng{seed ^ mix64(uint64_t(epoch))};
  for (int32_t i = n - 1; i > 0; i--) {
    std::swap(p[size_t(i)], p[size_t(rng.below(uint64_t(i) + 1))]);
  }
  return p;
}

}  // namespace dg::data
