// im2col + Eigen GEMM convolutions (kernels/conv/conv_reference.h).
#include "kernels/conv/conv_reference.h"

#include "engine/cpu/eigen_maps.h"

namespace dg::cpu {

static float* scratch_floats(Context& ctx, int64_t count) {
  return static_cast<float*>(ctx.arena().allocate(size_t(count) * sizeof(float)));
}

void conv_forward_im2col(Context& ctx, const ColGeom& g, int O, const float* image, const float* w, float* out) {
  WorkspaceScope scratch(ctx);
  float* col = scratch_floats(ctx, g.rows() * g.cols());
  float* yt = scratch_floats(ctx, O * g.cols());
  im2col(image, g, col);
  MapRM(yt, O, g.cols()).noalias() = ConstMapRM(w, O, g.rows()) * ConstMapRM(col, g.rows(), g.cols());
  cnp_to_nchw(yt, g.N, O, int64_t(g.Ho) * g.Wo, out);
}

void conv_backward_data_im2col(Context& ctx, const ColGeom& g, int O, const float* dout, const float* w,
                               float* dimage) {
  WorkspaceScope scratch(ctx);
  float* dyt = scratch_floats(ctx, O * g.cols());
  float* dcol = scratch_floats(ctx, g.rows() * g.cols());
  nchw_to_cnp(dout, g.N, O, int64_t(g.Ho) * g.Wo, dyt);
  MapRM(dcol, g.rows(), g.cols()).noalias() = ConstMapRM(w, O, g.rows()).transpose() * ConstMapRM(dyt, O, g.cols());
  col2im(dcol, g, dimage);
}

void conv_backward_filter_im2col(Context& ctx, const ColGeom& g, int O, const float* image, const float* dout,
                                 float* dw) {
  WorkspaceScope scratch(ctx);
  float* col = scratch_floats(ctx, g.rows() * g.cols());
  float* dyt = scratch_floats(ctx, O * g.cols());
  im2col(image, g, col);
  nchw_to_cnp(dout, g.N, O, int64_t(g.Ho) * g.Wo, dyt);
  MapRM(dw, O, g.rows()).noalias() += ConstMapRM(dyt, O, g.cols()) * ConstMapRM(col, g.rows(), g.cols()).transpose();
}

}  // namespace dg::cpu
