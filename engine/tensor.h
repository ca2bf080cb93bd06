// Tensor: a non-owning view of float32 memory with a shape, on one device.
// Memory is owned by an Arena (engine/arena.h); a Tensor is a cheap value to pass.
// Layout is NCHW, row-major: element (n, c, h, w) is at ((n*C + c)*H + h)*W + w.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "engine/error.h"

namespace dg {

enum class Device { cpu, cuda };
const char* device_name(Device d);

struct Shape {
  std::array<int, 4> dims{0, 0, 0, 0};
  int rank = 0;

  Shape() = default;
  Shape(std::initializer_list<int> d);
  int64_t numel() const;
  int operator[](int i) const { return dims[i]; }
  bool operator==(const Shape& o) const { return rank == o.rank && dims == o.dims; }
  std::string str() const;  // "(2, 3, 4, 4)"
};

struct Tensor {
  float* data = nullptr;
  Shape shape;
  Device device = Device::cpu;

  int64_t numel() const { return shape.numel(); }
  int64_t bytes() const { return numel() * int64_t(sizeof(float)); }
  // NCHW accessors; a tensor of lower rank reads as 1 in the missing trailing dims.
  int n() const { return dim(0); }
  int c() const { return dim(1); }
  int h() const { return dim(2); }
  int w() const { return dim(3); }
  int dim(int i) const { return i < shape.rank ? shape.dims[i] : 1; }
  // The same memory seen with another shape of equal size.
  Tensor reshaped(Shape s) const;
  // Elements [offset, offset + s.numel()) as a tensor of shape s.
  Tensor slice(int64_t offset, Shape s) const;
  // Sample b of a batch (dim 0), keeping the other dims, rank unchanged with n = count.
  Tensor batch_slice(int begin, int count) const;
};

// Throws a dg::Error naming `what` when t's shape is not `expected`.
void check_shape(const Tensor& t, const Shape& expected, const char* what);

}  // namespace dg
