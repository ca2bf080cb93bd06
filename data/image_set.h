// ImageSet: a whole data set decoded into memory as uint8 pixels, whatever file format it
// came from. Readers produce it; preprocess.h and loader.h turn it into float batches.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dg::data {

struct ImageSet {
  int count = 0, channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // (count, channels, height, width): planar CHW per image
  std::vector<int32_t> labels;  // (count) class ids, or empty when the format has none
  std::string source;           // what it was read from, for messages

  size_t bytes_per_image() const { return size_t(channels) * size_t(height) * size_t(width); }
};

}  // namespace dg::data
