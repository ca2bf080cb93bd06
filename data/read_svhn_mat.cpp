#include "data/read_svhn_mat.h"

#include <climits>
#include <cmath>
#include <string>

#include "data/data_error.h"
#include "data/mat_file.h"

namespace dg::data {
namespace {

// Column-major X(row, col, channel, n) -> our planar (n, channel, row, col).
void copy_images(const MatVariable& x, ImageSet& set) {
  const size_t h = size_t(set.height), w = size_t(set.width), plane = h * w;
  const size_t per_image = plane * size_t(set.channels);
  set.pixels.resize(size_t(set.count) * per_image);
  for (size_t n = 0; n < size_t(set.count); n++) {
    for (size_t c = 0; c < size_t(set.channels); c++) {
      const uint8_t* src = x.data + n * per_image + c * plane;  // (col, row) within the plane
      uint8_t* dst = set.pixels.data() + n * per_image + c * plane;
      for (size_t row = 0; row < h; row++) {
        for (size_t col = 0; col < w; col++) dst[row * w + col] = src[col * h + row];
      }
    }
  }
}

void copy_labels(const std::string& path, const MatVariable& y, ImageSet& set) {
  if (y.is_complex) data_fail(path, "variable y is complex");
  if (y.element_count != uint64_t(set.count)) {
    data_fail(path, "y holds ", y.element_count, " labels but X holds ", set.count, " images");
  }
  set.labels.resize(size_t(set.count));
  for (size_t i = 0; i < size_t(set.count); i++) {
    double v = mat_value(y, i);
    if (!(v >= 1 && v <= 10) || v != std::floor(v)) {
      data_fail(path, "label y(", i + 1, ") = ", v, ", expected an integer 1..10");
    }
    set.labels[i] = int32_t(v) % 10;  // SVHN writes the digit 0 as label 10
  }
}

}  // namespace

ImageSet read_svhn_mat(const std::string& path) {
  MatFile mat = read_mat_file(path);
  const MatVariable* x = mat.find("X");
  if (!x) data_fail(path, "no variable X (SVHN cropped digits keep their images in X)");
  if (x->class_id != mxUINT8_CLASS || x->data_type != miUINT8 || x->is_complex) {
    data_fail(path, "X has class ", x->class_id, " stored as type ", x->data_type,
              ", expected real uint8 (class 9, type miUINT8)");
  }
  const std::vector<uint64_t>& d = x->dims;
  if (d.size() < 3 || d.size() > 4 || (d[2] != 1 && d[2] != 3)) {
    std::string dims;
    for (uint64_t n : d) dims += (dims.empty() ? "" : " x ") + std::to_string(n);
    data_fail(path, "X must be H x W x C x N with C = 1 or 3, it is ", dims);
  }
  uint64_t count = d.size() == 4 ? d[3] : 1;  // MATLAB drops a trailing 1
  if (d[0] == 0 || d[1] == 0 || count == 0) data_fail(path, "X is empty");
  if (d[0] > INT_MAX || d[1] > INT_MAX || count > INT_MAX) data_fail(path, "X is too large");

  ImageSet set;
  set.height = int(d[0]);
  set.width = int(d[1]);
  set.channels = int(d[2]);
  set.count = int(count);
  set.source = path;
  copy_images(*x, set);  // sizes agree: read_mat_file checked dims against the data bytes
  if (const MatVariable* y = mat.find("y")) copy_labels(path, *y, set);
  return set;
}

}  // namespace dg::data
