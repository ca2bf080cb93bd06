#include "kernels/conv/im2col.h"

#include <cstring>
#include "engine/cpu/parallel.h"

namespace dg::cpu {

void im2col(const float* x, const ColGeom& g, float* col) {
  const int64_t P = int64_t(g.Ho) * g.Wo;
#pragma omp parallel for collapse(2) schedule(static) if (int64_t(g.N) * g.C * P >= kParallelMinWork)
  for (int c = 0; c < g.C; c++)
    for (int n = 0; n < g.N; n++) {
      const float* xc = x + (int64_t(n) * g.C + c) * g.H * g.W;
      for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++) {
          float* out = col + ((int64_t(c) * g.KH + kh) * g.KW + kw) * g.cols() + n * P;
          for (int oh = 0; oh < g.Ho; oh++) {
            int ih = oh * g.stride - g.pad_h + kh;
            for (int ow = 0; ow < g.Wo; ow++) {
              int iw = ow * g.stride - g.pad_w + kw;
              bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
              out[oh * g.Wo + ow] = inside ? xc[ih * g.W + iw] : 0.0f;
            }
          }
        }
    }
}

void col2im(const float* col, const ColGeom& g, float* x) {
  const int64_t P = int64_t(g.Ho) * g.Wo;
  // Each (n, c) image plane gathers only from its own rows/columns: no write conflicts.
#pragma omp parallel for collapse(2) schedule(static) if (int64_t(g.N) * g.C * P >= kParallelMinWork)
  for (int n = 0; n < g.N; n++)
    for (int c = 0; c < g.C; c++) {
      float* xc = x + (int64_t(n) * g.C + c) * g.H * g.W;
      std::memset(xc, 0, sizeof(float) * g.H * g.W);
      for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++) {
          const float* in = col + ((int64_t(c) * g.KH + kh) * g.KW + kw) * g.cols() + n * P;
          for (int oh = 0; oh < g.Ho; oh++) {
            int ih = oh * g.stride - g.pad_h + kh;
            if (ih < 0 || ih >= g.H) continue;
            for (int ow = 0; ow < g.Wo; ow++) {
              int iw = ow * g.stride - g.pad_w + kw;
              if (iw >= 0 && iw < g.W) xc[ih * g.W + iw] += in[oh * g.Wo + ow];
            }
          }
        }
    }
}

void nchw_to_cnp(const float* x, int N, int C, int64_t P, float* out) {
#pragma omp parallel for collapse(2) schedule(static) if (int64_t(N) * C * P >= kParallelMinWork)
  for (int c = 0; c < C; c++)
    for (int n = 0; n < N; n++)
      std::memcpy(out + (int64_t(c) * N + n) * P, x + (int64_t(n) * C + c) * P, sizeof(float) * P);
}

void cnp_to_nchw(const float* x, int N, int C, int64_t P, float* out) {
#pragma omp parallel for collapse(2) schedule(static) if (int64_t(N) * C * P >= kParallelMinWork)
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      std::memcpy(out + (int64_t(n) * C + c) * P, x + (int64_t(c) * N + n) * P, sizeof(float) * P);
}

}  // namespace dg::cpu
