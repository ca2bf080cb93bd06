// im2col / col2im over a whole batch, the CPU convolution's data layout.
//
// col has shape (C*KH*KW, N*Ho*Wo): row (c, kh, kw), column (n, oh, ow) holds
// x[n, c, oh*s - pad_h + kh, ow*s - pad_w + kw] (0 outside the image). A convolution is then
// one GEMM: y' (O, N*Ho*Wo) = w (O, C*KH*KW) * col.
#pragma once
#include <cstdint>

namespace dg::cpu {

struct ColGeom {
  int N, C, H, W;   // image batch
  int KH, KW, stride, pad_h, pad_w;
  int Ho, Wo;       // convolution output size
  int64_t rows() const { return int64_t(C) * KH * KW; }
  int64_t cols() const { return int64_t(N) * Ho * Wo; }
};

void im2col(const float* x, const ColGeom& g, float* col);
// x = sum of col's entries into their source pixels (overwrites x).
void col2im(const float* col, const ColGeom& g, float* x);

// (N, C, P) <-> (C, N*P): per-sample channel planes to channel-major GEMM layout.
void nchw_to_cnp(const float* x, int N, int C, int64_t P, float* out);
void cnp_to_nchw(const float* x, int N, int C, int64_t P, float* out);

}  // namespace dg::cpu
