#include "data/preprocess.h"

#include <algorithm>

#include "data/data_error.h"
#include "data/resize.h"

namespace dg::data {

void check_channels(const ImageSet& set, int channels_out) {
  if (set.channels != 1 && set.channels != 3) data_fail(set.source, "images have ", set.channels, " channels, expected 1 or 3");
  if (channels_out != 1 && channels_out != 3) data_fail(set.source, "asked for ", channels_out, " channels, expected 1 or 3");
  if (set.channels == 3 && channels_out == 1) {
    data_fail(set.source, "3-channel (color) images cannot feed a 1-channel model; use 3 channels");
  }
}

void preprocess_image(const ImageSet& set, int index, int size, int channels_out, float* out) {
  check_channels(set, channels_out);
  if (size < 1) data_fail(set.source, "image size ", size, " must be positive");
  if (set.height < 1 || set.width < 1) data_fail(set.source, "images of ", set.height, "x", set.width, " are empty");
  if (index < 0 || index >= set.count) data_fail(set.source, "image index ", index, " outside 0..", set.count - 1);
  const size_t per_image = set.bytes_per_image();
  if ((size_t(index) + 1) * per_image > set.pixels.size()) {
    data_fail(set.source, "image ", index, " lies past the end of the pixel data (", set.pixels.size(),
              " bytes, ", per_image, " per image)");
  }
  const uint8_t* image = set.pixels.data() + size_t(index) * per_image;
  const size_t plane_in = size_t(set.height) * set.width, plane_out = size_t(size) * size;
  const bool same_size = set.height == size && set.width == size;

  // Planes that have a source plane of their own; a gray source fills only plane 0 here.
  const int own_planes = std::min(set.channels, channels_out);
  for (int c = 0; c < own_planes; c++) {
    const uint8_t* src = image + c * plane_in;
    float* dst = out + c * plane_out;
    if (same_size) {
      for (size_t i = 0; i < plane_out; i++) dst[i] = float(src[i]);
    } else {
      resize_bilinear_plane(src, set.height, set.width, set.width, 1, size, size, dst);
    }
    for (size_t i = 0; i < plane_out; i++) dst[i] = dst[i] / 127.5f - 1.0f;
  }
  for (int c = own_planes; c < channels_out; c++) std::copy(out, out + plane_out, out + c * plane_out);
}

}  // namespace dg::data
