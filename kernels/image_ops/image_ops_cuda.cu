// Forward-only image ops of the feature networks on the device: one thread per output
// element, the per-pixel math shared with the CPU (image_math.h).
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/image_ops/image_math.h"
#include "kernels/image_ops/image_ops.h"
#include "kernels/launch.cuh"

namespace dg::cuda {

using kernels::check_on_device;

// Element i of y (N, C, Ho, Wo) is pixel (oh, ow) of plane p = i / (Ho*Wo).
static __global__ void pool_kernel(bool is_max, image::Window g, const float* x, float* y, int Ho, int Wo, int64_t n) {
  DG_GRID_STRIDE(i, n) {
    const int64_t p = i / (int64_t(Ho) * Wo);
    const int oh = int(i / Wo % Ho), ow = int(i % Wo);
    const float* plane = x + p * g.H * g.W;
    y[i] = is_max ? image::max_pool_at(plane, g, oh, ow) : image::avg_pool_at(plane, g, oh, ow);
  }
}

static void pool(Context& ctx, bool is_max, const Tensor& x, PoolGeom g, Tensor y, const char* op) {
  check_on_device(x, op);
  check_on_device(y, op);
  if (y.numel() == 0) return;
  const image::Window win{x.h(), x.w(), g.kernel, g.stride, g.padding};
  DG_LAUNCH(pool_kernel, blocks_for(y.numel(), 256), 256, 0, ctx.cuda().stream, is_max, win, x.data, y.data, y.h(),
            y.w(), y.numel());
  DG_CUDA_CHECK_LAUNCH();
}

void max_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y) { pool(ctx, true, x, g, y, "max_pool2d"); }
void avg_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y) { pool(ctx, false, x, g, y, "avg_pool2d"); }

static __global__ void resize_kernel(const float* x, float* y, int H, int W, int Ho, int Wo, int64_t n) {
  DG_GRID_STRIDE(i, n) {
    const int64_t p = i / (int64_t(Ho) * Wo);
    y[i] = image::bilinear_at(x + p * H * W, H, W, Ho, Wo, int(i / Wo % Ho), int(i % Wo));
  }
}

void resize_bilinear(Context& ctx, const Tensor& x, Tensor y) {
  check_on_device(x, "resize_bilinear");
  check_on_device(y, "resize_bilinear");
  DG_LAUNCH(resize_kernel, blocks_for(y.numel(), 256), 256, 0, ctx.cuda().stream, x.data, y.data, x.h(), x.w(), y.h(),
            y.w(), y.numel());
  DG_CUDA_CHECK_LAUNCH();
}

static __global__ void quantize_kernel(const float* x, float* y, int64_t n) {
  DG_GRID_STRIDE(i, n) y[i] = image::quantize_8bit_at(x[i]);
}

void quantize_8bit(Context& ctx, const Tensor& x, Tensor y) {
  check_on_device(x, "quantize_8bit");
  check_on_device(y, "quantize_8bit");
  if (x.numel() == 0) return;
  DG_LAUNCH(quantize_kernel, blocks_for(x.numel(), 256), 256, 0, ctx.cuda().stream, x.data, y.data, x.numel());
  DG_CUDA_CHECK_LAUNCH();
}

void copy_channels(Context& ctx, const Tensor& src, Tensor dst, int c0) {
  check_on_device(src, "copy_channels");
  check_on_device(dst, "copy_channels");
  if (src.numel() == 0) return;
  // One strided 2-d copy: a row per image, src's channels into dst's at c0.
  const size_t plane = size_t(src.h()) * src.w() * sizeof(float);
  DG_CUDA_CHECK(cudaMemcpy2DAsync(dst.data + int64_t(c0) * src.h() * src.w(), plane * dst.c(), src.data,
                                  plane * src.c(), plane * src.c(), size_t(src.n()), cudaMemcpyDeviceToDevice,
                                  ctx.cuda().stream));
}

}  // namespace dg::cuda
