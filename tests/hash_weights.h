// Made-up network weights computed from tensor names with an integer hash, the C++ twin of
// bench/pytorch/make_inception_golden.py (which states the formula), so a PyTorch golden run
// of a large network needs no weight file: both sides compute the same float32 bits.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/param_store.h"

namespace dg::test {

inline double hash_uniform(uint64_t tensor_number, uint64_t i) {
  uint64_t z = (tensor_number << 32) + i + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z = z ^ (z >> 31);
  return double(z >> 11) * 0x1p-53 * 2.0 - 1.0;
}

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

inline float hash_value(const std::string& name, const Shape& shape, double u) {
  if (ends_with(name, "conv.weight")) return float(u * std::sqrt(6.0 / (double(shape[1]) * shape[2] * shape[3])));
  if (ends_with(name, "bn.weight")) return float(1.0 + 0.1 * u);
  if (ends_with(name, "running_var")) return float(1.0 + 0.25 * u);
  if (name == "fc.weight") return float(u * std::sqrt(3.0 / 2048));
  return float(0.1 * u);
}

// Fills every tensor of a host-side store (parameters and buffers).
inline void fill_hash_weights(ParamStore& store) {
  std::vector<std::string> names;
  for (const ParamView& v : store.views()) names.push_back(v.name);
  std::sort(names.begin(), names.end());
  for (size_t t = 0; t < names.size(); t++) {
    const ParamView& v = store.view(names[t]);
    Tensor dst = v.trainable() ? store.param(v.name) : store.buffer(v.name);
    for (int64_t i = 0; i < dst.numel(); i++) dst.data[i] = hash_value(v.name, v.shape, hash_uniform(t + 1, uint64_t(i)));
  }
}

}  // namespace dg::test
