// The image ops' entries: shapes and windows checked once, then the CPU bodies
// (image_ops_cpu.cpp) or the CUDA kernels (image_ops_cuda.cu).
#include "kernels/image_ops/image_ops.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(max_pool2d)
DG_OP_BODIES(avg_pool2d)
DG_OP_BODIES(resize_bilinear)
DG_OP_BODIES(quantize_8bit)
DG_OP_BODIES(copy_channels)

int pool_out_size(int in, PoolGeom g) { return (in + 2 * g.padding - g.kernel) / g.stride + 1; }

// x, y (N, C, H, W) with y's size what the window makes of x's.
static void check_pool(const Tensor& x, PoolGeom g, const Tensor& y, const char* op) {
  DG_CHECK(x.shape.rank == 4 && y.shape.rank == 4, op, ": x and y must be (N, C, H, W), got ", x.shape.str(), ", ",
           y.shape.str());
  DG_CHECK(g.kernel >= 1 && g.stride >= 1 && g.padding >= 0 && 2 * g.padding <= g.kernel, op, ": bad window: kernel ",
           g.kernel, " stride ", g.stride, " padding ", g.padding, " (padding at most half the kernel)");
  DG_CHECK(y.n() == x.n() && y.c() == x.c() && y.h() == pool_out_size(x.h(), g) && y.w() == pool_out_size(x.w(), g),
           op, ": a ", g.kernel, "x", g.kernel, " window with stride ", g.stride, " padding ", g.padding, " maps ",
           x.shape.str(), " to (", x.n(), ", ", x.c(), ", ", pool_out_size(x.h(), g), ", ", pool_out_size(x.w(), g),
           "), not ", y.shape.str());
}

void max_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y) {
  check_pool(x, g, y, "max_pool2d");
  DG_DISPATCH(ctx, max_pool2d(ctx, x, g, y));
}

void avg_pool2d(Context& ctx, const Tensor& x, PoolGeom g, Tensor y) {
  check_pool(x, g, y, "avg_pool2d");
  DG_DISPATCH(ctx, avg_pool2d(ctx, x, g, y));
}

void resize_bilinear(Context& ctx, const Tensor& x, Tensor y) {
  DG_CHECK(x.shape.rank == 4 && y.shape.rank == 4 && x.n() == y.n() && x.c() == y.c() && x.numel() > 0 &&
               y.numel() > 0,
           "resize_bilinear: x ", x.shape.str(), " and y ", y.shape.str(), " must be non-empty (N, C, H, W) of the same N, C");
  DG_DISPATCH(ctx, resize_bilinear(ctx, x, y));
}

void quantize_8bit(Context& ctx, const Tensor& x, Tensor y) {
  DG_CHECK(x.numel() == y.numel(), "quantize_8bit: x ", x.shape.str(), " vs y ", y.shape.str());
  DG_DISPATCH(ctx, quantize_8bit(ctx, x, y));
}

void copy_channels(Context& ctx, const Tensor& src, Tensor dst, int c0) {
  DG_CHECK(src.shape.rank == 4 && dst.shape.rank == 4 && src.n() == dst.n() && src.h() == dst.h() &&
               src.w() == dst.w() && c0 >= 0 && c0 + src.c() <= dst.c(),
           "copy_channels: ", src.shape.str(), " does not fit into ", dst.shape.str(), " at channel ", c0);
  DG_DISPATCH(ctx, copy_channels(ctx, src, dst, c0));
}

}  // namespace dg
