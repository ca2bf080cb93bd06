// The CPU convolutions as implicit GEMMs (engine/cpu/gemm.h): the packing step reads the
// images through offset tables, so no im2col or col2im matrix is ever written.
//
// All three products are stated in the geometry of one convolution (cpu::ColGeom): image I
// (N, C, H, W), weights w (O, C, KH, KW), output (N, O, Ho, Wo). conv2d uses them directly;
// conv_transpose2d is the adjoint (its forward is backward_data, its backward-data is
// forward, its filter gradient is backward_filter with the roles of x and dy swapped).
//
//   forward          out[n,o,p]  = sum_{c,kh,kw} w[o,c,kh,kw] I[n,c,tap]          M=O  N=N*Ho*Wo  K=C*KH*KW
//   backward_data    dI          = the adjoint, one GEMM per stride phase          M=C  N=N*|phase| K=O*taps
//   backward_filter  dw[o,c,kh,kw] += sum_{n,p} dout[n,o,p] I[n,c,tap]              M=C*KH*KW N=O K=N*Ho*Wo
//
// Strided images are first split into their s*s polyphase components (zero-padded), so that
// every gather reads runs of adjacent pixels. backward_data splits the *output* of the
// adjoint by phase instead: the pixels of dI with the same (iy + pad) mod s, (ix + pad) mod s
// receive exactly the taps kh = ry + t s, kw = rx + v s, so each phase is a dense stride-1
// correlation of dout with a sub-kernel — no col2im, no scatter-adds, no zero taps but the
// borders'. When the borders dominate (a 1x1 image under a 4x4 kernel: G's first layer), the
// phases would multiply mostly zeros; backward_data_waste() says so and conv2d.cpp then uses
// the column method.
#pragma once
#include "engine/context.h"
#include "engine/cpu/im2col.h"

namespace dg::cpu {

// Offsets are 32-bit: every tensor involved (and its padded copy) must hold < 2^31 floats.
bool conv_gemm_fits(const ColGeom& g, int O);

void conv_forward_gemm(Context& ctx, const ColGeom& g, int O, const float* image, const float* w, float* out);
void conv_backward_data_gemm(Context& ctx, const ColGeom& g, int O, const float* dout, const float* w,
                             float* dimage);
void conv_backward_filter_gemm(Context& ctx, const ColGeom& g, int O, const float* image, const float* dout,
                               float* dw);

// Multiply-adds of the phase method over those of the column method (>= 1 when taps fall
// outside dout: the phases multiply zeros there, the column method computes products that
// col2im drops; they are equal when every tap lands).
double backward_data_phase_cost(const ColGeom& g);

}  // namespace dg::cpu
