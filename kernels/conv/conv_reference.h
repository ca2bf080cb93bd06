// The plain CPU convolutions: a batched im2col (or col2im) and one Eigen GEMM, in the same
// geometry as kernels/conv/conv_gemm.h. They are the reference the implicit GEMMs are tested
// against (tests/test_conv_gemm.cpp), and conv2d.cpp falls back to them where the implicit
// form does not pay (backward_data on a 1x1 image under a 4x4 kernel) or does not fit
// (32-bit offsets).
#pragma once
#include "engine/context.h"
#include "kernels/conv/im2col.h"

namespace dg::cpu {

void conv_forward_im2col(Context& ctx, const ColGeom& g, int O, const float* image, const float* w, float* out);
void conv_backward_data_im2col(Context& ctx, const ColGeom& g, int O, const float* dout, const float* w,
                               float* dimage);
void conv_backward_filter_im2col(Context& ctx, const ColGeom& g, int O, const float* image, const float* dout,
                                 float* dw);

}  // namespace dg::cpu
