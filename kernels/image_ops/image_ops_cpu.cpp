// Forward-only image ops of the feature networks on the CPU: max/avg pooling, bilinear
// resize, 8-bit quantization and channel concatenation. The per-pixel math is
// image_math.h, shared with the CUDA twins (image_ops_cuda.cu); shapes checked by image_ops.cpp.
#include <cstring>

#include "engine/cpu/parallel.h"
#include "kernels/image_ops/image_math.h"
#include "kernels/image_ops/image_ops.h"

namespace dg::cpu {

// Runs at(plane, oh, ow) for every output pixel of every (n, c) plane.
template <typename At>
static void per_output_pixel(const Tensor& x, Tensor y, At at) {
  const int64_t planes = int64_t(x.n()) * x.c(), in_plane = int64_t(x.h()) * x.w(), out_plane = int64_t(y.h()) * y.w();
#pragma omp parallel for schedule(static) if (planes * out_plane >= kParallelMinWork)
  for (int64_t p = 0; p < planes; p++)
    for (int oh = 0; oh < y.h(); oh++)
      for (int ow = 0; ow < y.w(); ow++) y.data[p * out_plane + oh * y.w() + ow] = at(x.data + p * in_plane, oh, ow);
}

void max_pool2d(Context&, const Tensor& x, PoolGeom g, Tensor y) {
  const image::Window win{x.h(), x.w(), g.kernel, g.stride, g.padding};
  per_output_pixel(x, y, [&](const float* plane, int oh, int ow) { return image::max_pool_at(plane, win, oh, ow); });
}

void avg_pool2d(Context&, const Tensor& x, PoolGeom g, Tensor y) {
  const image::Window win{x.h(), x.w(), g.kernel, g.stride, g.padding};
  per_output_pixel(x, y, [&](const float* plane, int oh, int ow) { return image::avg_pool_at(plane, win, oh, ow); });
}

void resize_bilinear(Context&, const Tensor& x, Tensor y) {
  const int H = x.h(), W = x.w(), Ho = y.h(), Wo = y.w();
  per_output_pixel(x, y, [&](const float* plane, int oh, int ow) {
    return image::bilinear_at(plane, H, W, Ho, Wo, oh, ow);
  });
}

void quantize_8bit(Context&, const Tensor& x, Tensor y) {
  for (int64_t i = 0; i < x.numel(); i++) y.data[i] = image::quantize_8bit_at(x.data[i]);
}

void copy_channels(Context&, const Tensor& src, Tensor dst, int c0) {
  const int64_t block = int64_t(src.c()) * src.h() * src.w(), plane = int64_t(src.h()) * src.w();
  for (int n = 0; n < src.n(); n++)
    std::memcpy(dst.data + (int64_t(n) * dst.c() + c0) * plane, src.data + n * block, size_t(block) * sizeof(float));
}

}  // namespace dg::cpu
