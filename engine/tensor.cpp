#include "engine/tensor.h"

#include <sstream>

namespace dg {

const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

Shape::Shape(std::initializer_list<int> d) {
  DG_CHECK(d.size() <= 4, "a shape has at most 4 dims, got ", d.size());
  for (int v : d) {
    DG_CHECK(v >= 0, "negative dimension ", v);
    dims[rank++] = v;
  }
}

int64_t Shape::numel() const {
  if (rank == 0) return 0;
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  return n;
}

std::string Shape::str() const {
  std::ostringstream s;
  s << "(";
  for (int i = 0; i < rank; i++) s << (i ? ", " : "") << dims[i];
  s << ")";
  return s.str();
}

Tensor Tensor::reshaped(Shape s) const {
  DG_CHECK(s.numel() == numel(), "cannot view ", shape.str(), " as ", s.str());
  Tensor t = *this;
  t.shape = s;
  return t;
}

Tensor Tensor::slice(int64_t offset, Shape s) const {
  DG_CHECK(offset >= 0 && offset + s.numel() <= numel(), "slice [", offset, ", ",
           offset + s.numel(), ") out of a tensor of ", numel(), " elements");
  Tensor t = *this;
  t.data = data + offset;
  t.shape = s;
  return t;
}

Tensor Tensor::batch_slice(int begin, int count) const {
  DG_CHECK(begin >= 0 && count >= 0 && begin + count <= n(), "batch slice [", begin, ", ",
           begin + count, ") of a batch of ", n());
  Shape s = shape;
  s.dims[0] = count;
  return slice(int64_t(begin) * (numel() / n()), s);
}

void check_shape(const Tensor& t, const Shape& expected, const char* what) {
  DG_CHECK(t.shape == expected, what, ": expected shape ", expected.str(), ", got ", t.shape.str());
}

}  // namespace dg
