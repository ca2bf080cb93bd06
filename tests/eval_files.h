// A small labelled data set for evaluation tests: 28x28 gray images of `classes` classes
// that a classifier tells apart at once (class c: a bright horizontal band at rows
// 4c .. 4c + 7, over noise), as train-* and t10k-* IDX files with labels, gzipped.
#pragma once
#include <string>

#include "tests/dataset_files.h"

namespace dg::test {

inline void write_labelled_idx(const std::string& dir, const std::string& prefix, int n, int classes, uint32_t seed) {
  Bytes pixels, labels;
  uint32_t r = seed * 2654435761u + 1;
  for (int i = 0; i < n; i++) {
    const int c = i % classes;
    labels.push_back(uint8_t(c));
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++) {
        r = r * 1664525u + 1013904223u;
        const int noise = int(r >> 27);  // 0..31
        pixels.push_back(uint8_t(y >= 4 * c && y < 4 * c + 8 ? 200 + noise : noise));
      }
  }
  write_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz", idx_file(0x0803, {uint32_t(n), 28, 28}, pixels));
  write_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz", idx_file(0x0801, {uint32_t(n)}, labels));
}

}  // namespace dg::test
