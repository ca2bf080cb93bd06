// The CPU convolutions as implicit GEMMs (engine/cpu/gemm.h): the register tile broadcasts
// the big operand (the image's taps) straight from the zero-padded image through offset
// tables, so no im2col or col2im matrix is ever written; only the small operand is packed.
//
// All three products are stated in the geometry of one convolution (cpu::ColGeom): image I
// (N, C, H, W), weights w (O, C, KH, KW), output (N, O, Ho, Wo). conv2d uses them directly;
// conv_transpose2d is the adjoint (its forward is backward_data, its backward-data is
// forward, its filter gradient is backward_filter with the roles of x and dy swapped).
//
//   forward          out^T (pixels x O)  = taps of I (pixels x C KH KW) * w^T           (w packed)
//   backward_filter  dw^T (C KH KW x O) += taps of I (C KH KW x pixels) * dout^T        (dout packed)
//   backward_data    dI, one product per stride phase: dI_phase^T (pixels x C) =
//                    windows of dout (pixels x O T V) * w_phase (O T V x C)           (w packed)
//
// backward_data splits dI by phase: the pixels with the same (iy + pad) mod s, (ix + pad) mod s
// receive exactly the taps kh = ry + t s, kw = rx + v s, so each phase is a dense stride-1
// correlation of dout with a sub-kernel, written into NCHW planes of that phase's pixels and
// then interleaved into dI — no col2im, no scatter-adds, no zero taps but the borders'. A
// single output pixel (Ho = Wo = 1: D's last layer, G's first as the adjoint) is one plain
// product instead. Where the borders dominate otherwise, the phases would multiply mostly
// zeros; backward_data_phase_cost() says so and conv2d.cpp then uses the column method.
#pragma once
#include "engine/context.h"
#include "kernels/conv/im2col.h"

namespace dg::cpu {

// Offsets are 32-bit: every tensor involved (and its padded copy) must hold < 2^31 floats.
// The three products below check it (conv2d.cpp uses the reference where it fails).
bool conv_gemm_fits(const ColGeom& g, int O);

void conv_forward_gemm(Context& ctx, const ColGeom& g, int O, const float* image, const float* w, float* out);
void conv_backward_data_gemm(Context& ctx, const ColGeom& g, int O, const float* dout, const float* w,
                             float* dimage);
void conv_backward_filter_gemm(Context& ctx, const ColGeom& g, int O, const float* image, const float* dout,
                               float* dw);

// Whether backward_data is the single-output-pixel product.
bool backward_data_is_one_pixel(const ColGeom& g);

// Multiply-adds of the phase method over those of the column method: 1 when every tap lands
// in the image and in dout; above 1 when taps fall outside dout (the phases multiply zeros
// there); below 1 when taps fall into the image's padding (the column method computes
// products there that col2im drops). 1 for a single output pixel.
double backward_data_phase_cost(const ColGeom& g);

}  // namespace dg::cpu
