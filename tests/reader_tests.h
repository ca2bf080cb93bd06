// Pieces shared by the readers' tests (tests/test_*_reader.cpp, tests/test_load_dataset.cpp):
// the check that a read fails with the right words, and the CIFAR records, SVHN matrices and
// RGB images that both a format's own tests and load_dataset's tests write.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "tests/dataset_files.h"

namespace dg::test {

// f() must throw DataError, and its message must contain every one of `words`.
inline void check_fails(const std::function<void()>& f, std::initializer_list<std::string> words) {
  try {
    f();
    FAIL_CHECK("no DataError thrown; expected one mentioning ", *words.begin());
  } catch (const data::DataError& e) {
    const std::string message = e.what();
    for (const std::string& w : words) CHECK_MESSAGE(message.find(w) != std::string::npos, message, " lacks '", w, "'");
  }
}

inline Bytes cifar_records(int count, int label_bytes, const std::function<uint8_t(int, int)>& label) {
  Bytes b;
  for (int r = 0; r < count; r++) {
    for (int l = 0; l < label_bytes; l++) b.push_back(label(r, l));
    for (size_t i = 0; i < 3072; i++) b.push_back(pattern(size_t(r) * 3072 + i));
  }
  return b;
}

constexpr int kH = 4, kW = 3, kC = 3, kN = 2;  // non-square, so a missed transpose shows
inline uint8_t svhn_value(int r, int c, int ch, int n) { return uint8_t(r + 10 * c + 50 * ch + 100 * n + 1); }

inline Bytes svhn_x_column_major() {
  Bytes x;
  for (int n = 0; n < kN; n++)
    for (int ch = 0; ch < kC; ch++)
      for (int c = 0; c < kW; c++)
        for (int r = 0; r < kH; r++) x.push_back(svhn_value(r, c, ch, n));
  return x;
}

inline Bytes svhn_y_double(std::vector<double> labels) {
  Bytes y(labels.size() * 8);
  std::memcpy(y.data(), labels.data(), y.size());
  return y;
}

// w x h RGB image whose pixel (x, y) channel c is 20x + 3y + 100c.
inline Bytes rgb_ramp(int w, int h) {
  Bytes b;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) b.push_back(uint8_t(20 * x + 3 * y + 100 * c));
  return b;
}

}  // namespace dg::test
