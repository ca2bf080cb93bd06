// Convolutions as implicit GEMMs: the offset tables of each product (kernels/conv/conv_gemm.h).
#include "kernels/conv/conv_gemm.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/cpu/gemm.h"
#include "engine/cpu/parallel.h"
#include "engine/cpu/transpose.h"
#include "engine/error.h"

namespace dg::cpu {
namespace {

int32_t* alloc_offsets(Context& ctx, int64_t count) {
  return static_cast<int32_t*>(ctx.arena().allocate(size_t(std::max<int64_t>(count, 1)) * sizeof(int32_t)));
}

float* alloc_floats(Context& ctx, int64_t count) {
  return static_cast<float*>(ctx.arena().allocate(size_t(std::max<int64_t>(count, 1)) * sizeof(float)));
}

int ceil_div(int a, int b) { return (a + b - 1) / b; }

void run_gemm(Context& ctx, int M, int N, int K, OffsetMatrix A, OffsetMatrix B, OutMatrix C, bool accumulate) {
  const size_t floats = gemm_workspace_floats(M, N, K, A);
  gemm(M, N, K, A, B, C, accumulate, alloc_floats(ctx, int64_t(floats)), floats);
}

// `planes` planes of H x W copied into planes of Hp x Wp at (top, left), zeros around them (or
// src itself when there is nothing to add).
const float* pad_planes(Context& ctx, const float* src, int planes, int H, int W, int top, int left, int Hp, int Wp) {
  if (top == 0 && left == 0 && Hp == H && Wp == W) return src;
  float* out = alloc_floats(ctx, int64_t(planes) * Hp * Wp);
#pragma omp parallel for schedule(static) if (int64_t(planes) * Hp * Wp >= kParallelMinWork)
  for (int q = 0; q < planes; q++) {
    float* dst = out + int64_t(q) * Hp * Wp;
    const float* in = src + int64_t(q) * H * W;
    std::memset(dst, 0, sizeof(float) * top * Wp);
    for (int y = 0; y < H; y++) {  // each padded row written once: zeros, the row, zeros
      float* d = dst + int64_t(y + top) * Wp;
      const float* r = in + int64_t(y) * W;
      for (int x = 0; x < left; x++) d[x] = 0.0f;
      int x = 0;
      for (; x + 8 <= W; x += 8) std::memcpy(d + left + x, r + x, 8 * sizeof(float));
      for (; x < W; x++) d[left + x] = r[x];
      for (x = left + W; x < Wp; x++) d[x] = 0.0f;
    }
    std::memset(dst + int64_t(top + H) * Wp, 0, sizeof(float) * (Hp - top - H) * Wp);
  }
  return out;
}

// `planes` = N C planes of H x W (NCHW) as a channel-last copy (N, Hp, Wp, C) with the image at
// (top, left) and zeros around it: then the C values of one pixel are adjacent, and a tile's
// broadcasts over (tap, channel) walk memory in order.
float* channel_last_padded(Context& ctx, const float* src, int N, int C, int H, int W, int top, int left, int Hp,
                           int Wp) {
  float* out = alloc_floats(ctx, int64_t(N) * Hp * Wp * C);
#pragma omp parallel for schedule(static) if (int64_t(N) * Hp * Wp * C >= kParallelMinWork)
  for (int row = 0; row < N * Hp; row++) {
    const int n = row / Hp, y = row % Hp - top;
    float* dst = out + int64_t(row) * Wp * C;
    if (y < 0 || y >= H) {
      std::memset(dst, 0, sizeof(float) * Wp * C);
      continue;
    }
    std::memset(dst, 0, sizeof(float) * left * C);
    std::memset(dst + int64_t(left + W) * C, 0, sizeof(float) * (Wp - left - W) * C);
    // Row y of the C planes (a C x W matrix, rows H W apart) to W pixels of C values.
    transpose(src + (int64_t(n) * C * H + y) * W, int64_t(H) * W, C, W, dst + int64_t(left) * C, C);
  }
  return out;
}

// Columns (n, oy, ox) of an NCHW tensor of `channels` planes of Ho x Wo: n C Ho Wo + oy Wo + ox.
int32_t* nchw_columns(Context& ctx, int N, int channels, int Ho, int Wo) {
  int32_t* col = alloc_offsets(ctx, int64_t(N) * Ho * Wo);
  for (int n = 0; n < N; n++)
    for (int p = 0; p < Ho * Wo; p++) col[int64_t(n) * Ho * Wo + p] = int32_t(int64_t(n) * channels * Ho * Wo + p);
  return col;
}

// 0, step, 2 step, ...
int32_t* strided(Context& ctx, int count, int64_t step) {
  int32_t* v = alloc_offsets(ctx, count);
  for (int i = 0; i < count; i++) v[i] = int32_t(i * step);
  return v;
}

// Taps of one phase along one axis: kernel positions k = r + t s (t = 0, 1, ...) below K.
int taps(int K, int s, int r) { return r < K ? ceil_div(K - r, s) : 0; }

// The image with its zero padding written out: planes of Hp x Wp that every tap reads inside.
struct Padded {
  const float* data;
  int Hp, Wp;
};

Padded pad_image(Context& ctx, const ColGeom& g, const float* image) {
  const int Hp = std::max(g.pad_h + g.H, (g.Ho - 1) * g.stride + g.KH);
  const int Wp = std::max(g.pad_w + g.W, (g.Wo - 1) * g.stride + g.KW);
  return {pad_planes(ctx, image, g.N * g.C, g.H, g.W, g.pad_h, g.pad_w, Hp, Wp), Hp, Wp};
}

// Pixel (n, oy, ox)'s first tap in the padded image, and tap (c, kh, kw)'s offset from it.
int32_t* pixel_offsets(Context& ctx, const ColGeom& g, const Padded& im) {
  int32_t* v = alloc_offsets(ctx, g.cols());
  for (int n = 0; n < g.N; n++)
    for (int oy = 0; oy < g.Ho; oy++)
      for (int ox = 0; ox < g.Wo; ox++)
        v[(int64_t(n) * g.Ho + oy) * g.Wo + ox] =
            int32_t((int64_t(n) * g.C * im.Hp + oy * g.stride) * im.Wp + ox * g.stride);
  return v;
}

int32_t* tap_offsets(Context& ctx, const ColGeom& g, const Padded& im) {
  int32_t* v = alloc_offsets(ctx, g.rows());
  for (int c = 0; c < g.C; c++)
    for (int kh = 0; kh < g.KH; kh++)
      for (int kw = 0; kw < g.KW; kw++) v[(c * g.KH + kh) * g.KW + kw] = int32_t((int64_t(c) * im.Hp + kh) * im.Wp + kw);
  return v;
}

}  // namespace

bool conv_gemm_fits(const ColGeom& g, int O) {
  const int64_t Hp = std::max(g.pad_h + g.H, (g.Ho - 1) * g.stride + g.KH) + g.KH;
  const int64_t Wp = std::max(g.pad_w + g.W, (g.Wo - 1) * g.stride + g.KW) + g.KW;
  const int64_t image = int64_t(g.N) * g.C * Hp * Wp;
  const int64_t out = int64_t(g.N) * O * (g.Ho + 2 * g.KH) * (g.Wo + 2 * g.KW);  // dout, padded
  const int64_t weights = int64_t(O) * g.C * g.KH * g.KW;
  return std::max({image, out, weights}) < INT_MAX;
}

void conv_forward_gemm(Context& ctx, const ColGeom& g, int O, const float* image, const float* w, float* out) {
  WorkspaceScope scratch(ctx);
  DG_CHECK(conv_gemm_fits(g, O), "a convolution too large for 32-bit offsets (", g.N, "x", g.C, "x", g.H, "x", g.W, " -> ", O, " channels)");
  // out^T (pixels x O) = taps (pixels x KH KW C) of the channel-last padded image, read in
  // place, * w^T (KH KW C x O), packed; straight into NCHW (a tile's rows, adjacent pixels, are
  // adjacent floats of each channel's plane).
  const int Hp = std::max(g.pad_h + g.H, (g.Ho - 1) * g.stride + g.KH);
  const int Wp = std::max(g.pad_w + g.W, (g.Wo - 1) * g.stride + g.KW);
  const float* im = channel_last_padded(ctx, image, g.N, g.C, g.H, g.W, g.pad_h, g.pad_w, Hp, Wp);
  const int M = int(g.cols()), K = int(g.rows()), kk = g.KH * g.KW;
  int32_t* a_row = alloc_offsets(ctx, M);
  for (int n = 0; n < g.N; n++)
    for (int oy = 0; oy < g.Ho; oy++)
      for (int ox = 0; ox < g.Wo; ox++)
        a_row[(int64_t(n) * g.Ho + oy) * g.Wo + ox] =
            int32_t(((int64_t(n) * Hp + oy * g.stride) * Wp + ox * g.stride) * g.C);
  int32_t* a_col = alloc_offsets(ctx, K);  // k = (kh, kw, c)
  for (int kh = 0; kh < g.KH; kh++)
    for (int kw = 0; kw < g.KW; kw++)
      for (int c = 0; c < g.C; c++) a_col[(kh * g.KW + kw) * g.C + c] = int32_t((int64_t(kh) * Wp + kw) * g.C + c);
  // w^T in that order, row-major (K x O): B's rows are then adjacent floats, packed by copies.
  float* wt = alloc_floats(ctx, int64_t(K) * O);
#pragma omp parallel for schedule(static) if (int64_t(K) * O >= kParallelMinWork)
  for (int c = 0; c < g.C; c++)
    for (int o = 0; o < O; o += 8)  // w[o.., c, :] (8 x KH KW) to wt[(:, c), o..]
      transpose(w + (int64_t(o) * g.C + c) * kk, int64_t(g.C) * kk, std::min(8, O - o), kk, wt + int64_t(c) * O + o,
                int64_t(g.C) * O);
  run_gemm(ctx, M, O, K, {im, a_row, a_col}, {wt, strided(ctx, K, O), strided(ctx, O, 1)},
           {out, nchw_columns(ctx, g.N, O, g.Ho, g.Wo), strided(ctx, O, int64_t(g.Ho) * g.Wo)}, false);
}

void conv_backward_filter_gemm(Context& ctx, const ColGeom& g, int O, const float* image, const float* dout,
                               float* dw) {
  WorkspaceScope scratch(ctx);
  DG_CHECK(conv_gemm_fits(g, O), "a convolution too large for 32-bit offsets (", g.N, "x", g.C, "x", g.H, "x", g.W, " -> ", O, " channels)");
  // dw^T (C KH KW x O) = im2col (C KH KW x pixels), read in place, * dout^T (pixels x O), packed;
  // into a row-major dw^T (adjacent columns), then added to dw by 8 x 8 transposed blocks.
  const Padded im = pad_image(ctx, g, image);
  const int M = int(g.rows()), K = int(g.cols());
  const int32_t* a_row = tap_offsets(ctx, g, im);
  const int32_t* a_col = pixel_offsets(ctx, g, im);
  const int32_t* b_row = nchw_columns(ctx, g.N, O, g.Ho, g.Wo);
  const int32_t* b_col = strided(ctx, O, int64_t(g.Ho) * g.Wo);
  float* dwt = alloc_floats(ctx, int64_t(M) * O);
  const int32_t* c_row = strided(ctx, M, O);
  const int32_t* c_col = strided(ctx, O, 1);
  run_gemm(ctx, M, O, K, {im.data, a_row, a_col}, {dout, b_row, b_col}, {dwt, c_row, c_col}, false);
  const int blocks = (M + 63) / 64;
#pragma omp parallel for schedule(static) if (int64_t(M) * O >= kParallelMinWork)
  for (int b = 0; b < blocks; b++)
    add_transposed(dwt + int64_t(b) * 64 * O, O, std::min(64, M - b * 64), O, dw + b * 64, M);
}

// One output pixel (Ho = Wo = 1: DCGAN's last D layer, and G's first layer as the adjoint):
// every image pixel (iy, ix) meets exactly the tap (iy + pad_h, ix + pad_w), so dI (N x C H W) =
// dout (N x O), in place, * w (O x C H W taps), packed. No phases, no zero taps.
namespace {
void backward_data_one_pixel(Context& ctx, const ColGeom& g, int O, const float* dout, const float* w,
                             float* dimage) {
  const int M = g.N, N = g.C * g.H * g.W, kk = g.KH * g.KW;
  const int32_t* a_row = strided(ctx, M, O);
  const int32_t* a_col = strided(ctx, O, 1);
  const int32_t* b_row = strided(ctx, O, int64_t(g.C) * kk);
  int32_t* b_col = alloc_offsets(ctx, N);
  for (int c = 0; c < g.C; c++)
    for (int iy = 0; iy < g.H; iy++)
      for (int ix = 0; ix < g.W; ix++) b_col[(c * g.H + iy) * g.W + ix] = c * kk + (iy + g.pad_h) * g.KW + ix + g.pad_w;
  const int32_t* c_row = strided(ctx, M, N);
  const int32_t* c_col = strided(ctx, N, 1);
  run_gemm(ctx, M, N, O, {dout, a_row, a_col}, {w, b_row, b_col}, {dimage, c_row, c_col}, false);
}
}  // namespace

bool backward_data_is_one_pixel(const ColGeom& g) {
  return g.Ho == 1 && g.Wo == 1 && g.H - 1 + g.pad_h <= g.KH - 1 && g.W - 1 + g.pad_w <= g.KW - 1;
}

void conv_backward_data_gemm(Context& ctx, const ColGeom& g, int O, const float* dout, const float* w,
                             float* dimage) {
  WorkspaceScope scratch(ctx);
  DG_CHECK(conv_gemm_fits(g, O), "a convolution too large for 32-bit offsets (", g.N, "x", g.C, "x", g.H, "x", g.W, " -> ", O, " channels)");
  if (backward_data_is_one_pixel(g)) return backward_data_one_pixel(ctx, g, O, dout, w, dimage);
  const int s = g.stride, kk = g.KH * g.KW;
  // Pixel iy of dI is in phase ry = (iy + pad_h) mod s and row qy = (iy + pad_h) div s of it;
  // its taps kh = ry + t s read dout row oy = qy - t. Rows of dout padded so that every such
  // oy of every phase is inside: [lo, hi] = [min(0, qy_min - T + 1), max(Ho - 1, qy_max)].
  const int Tmax = taps(g.KH, s, 0), Vmax = taps(g.KW, s, 0);
  const int top = Tmax - 1, bottom = std::max(0, (g.H - 1 + g.pad_h) / s - (g.Ho - 1));
  const int left = Vmax - 1, right = std::max(0, (g.W - 1 + g.pad_w) / s - (g.Wo - 1));
  const int Hp = g.Ho + top + bottom, Wp = g.Wo + left + right;
  const float* padded = channel_last_padded(ctx, dout, g.N, O, g.Ho, g.Wo, top, left, Hp, Wp);
  // Each phase: dI_phase^T (N |phase| x C) = windows of the channel-last padded dout (N |phase|
  // x T V O), read in place, * w_phase (T V O x C), packed; into NCHW planes of the phase's
  // pixels (a tile's rows, adjacent pixels, adjacent floats), then interleaved into dI.
  // w with each o's C x KH KW block transposed, wk[o][kh KW + kw][c]: a phase's B rows (one tap
  // of one o) are then C adjacent floats, packed by copies.
  float* wk = alloc_floats(ctx, int64_t(O) * kk * g.C);
#pragma omp parallel for schedule(static) if (int64_t(O) * kk * g.C >= kParallelMinWork)
  for (int o = 0; o < O; o++) transpose(w + int64_t(o) * g.C * kk, kk, g.C, kk, wk + int64_t(o) * kk * g.C, g.C);
  struct Phase {
    int ry, rx, qy0, qx0, Hq, Wq;
    float* rows;  // (n, c, qy, qx)
  };
  std::vector<Phase> phases;
  for (int ry = 0; ry < s; ry++)
    for (int rx = 0; rx < s; rx++) {
      // Rows of the phase: iy = qy s + ry - pad_h in [0, H); columns likewise.
      if (g.H - 1 + g.pad_h < ry || g.W - 1 + g.pad_w < rx) continue;
      const int qy0 = ceil_div(std::max(0, g.pad_h - ry), s), qy1 = (g.H - 1 + g.pad_h - ry) / s;
      const int qx0 = ceil_div(std::max(0, g.pad_w - rx), s), qx1 = (g.W - 1 + g.pad_w - rx) / s;
      if (qy1 < qy0 || qx1 < qx0) continue;
      const int Hq = qy1 - qy0 + 1, Wq = qx1 - qx0 + 1;
      const int T = taps(g.KH, s, ry), V = taps(g.KW, s, rx);
      const int M = g.N * Hq * Wq, K = O * T * V;
      Phase ph{ry, rx, qy0, qx0, Hq, Wq, alloc_floats(ctx, int64_t(M) * g.C)};
      phases.push_back(ph);
      if (K == 0) {  // no tap reaches these pixels
        std::fill(ph.rows, ph.rows + int64_t(M) * g.C, 0.0f);
        continue;
      }
      int32_t* a_row = alloc_offsets(ctx, M);  // (n, qy, qx) -> dout[n, qy, qx, :] in the padded copy
      for (int n = 0; n < g.N; n++)
        for (int i = 0; i < Hq; i++)
          for (int j = 0; j < Wq; j++)
            a_row[(int64_t(n) * Hq + i) * Wq + j] = int32_t(((int64_t(n) * Hp + qy0 + i) * Wp + qx0 + j) * O);
      int32_t* a_col = alloc_offsets(ctx, K);  // (t, v, o) -> dout[., qy - t, qx - v, o]
      int32_t* b_row = alloc_offsets(ctx, K);  // -> wk[o, (ry + t s) KW + rx + v s, .]
      for (int t = 0; t < T; t++)
        for (int v = 0; v < V; v++)
          for (int o = 0; o < O; o++) {
            const int k = (t * V + v) * O + o;
            a_col[k] = int32_t((int64_t(top - t) * Wp + left - v) * O + o);  // (top >= t, left >= v)
            b_row[k] = int32_t((int64_t(o) * kk + (ry + t * s) * g.KW + rx + v * s) * g.C);
          }
      run_gemm(ctx, M, g.C, K, {padded, a_row, a_col}, {wk, b_row, strided(ctx, g.C, 1)},
               {ph.rows, nchw_columns(ctx, g.N, g.C, Hq, Wq), strided(ctx, g.C, int64_t(Hq) * Wq)}, false);
    }
  // Interleave: dI[n, c, qy s + ry - pad_h, qx s + rx - pad_w] = phase (ry, rx)'s (n, c, qy, qx).
#pragma omp parallel for schedule(static) if (int64_t(g.N) * g.C * g.H * g.W >= kParallelMinWork)
  for (int plane = 0; plane < g.N * g.C; plane++) {
    float* dst = dimage + int64_t(plane) * g.H * g.W;
    for (const Phase& p : phases)
      for (int i = 0; i < p.Hq; i++) {
        float* row = dst + int64_t((p.qy0 + i) * s + p.ry - g.pad_h) * g.W + p.qx0 * s + p.rx - g.pad_w;
        const float* src = p.rows + (int64_t(plane) * p.Hq + i) * p.Wq;
        for (int j = 0; j < p.Wq; j++) row[j * s] = src[j];
      }
  }
}

double backward_data_phase_cost(const ColGeom& g) {
  if (g.Ho < 1 || g.Wo < 1 || g.KH < 1 || g.KW < 1) return INFINITY;  // (nothing the phases could do)
  if (backward_data_is_one_pixel(g)) return 1.0;
  // Per axis: the taps every pixel of the image receives (phase method) over the kernel
  // positions times output positions (column method).
  auto axis = [&](int H, int K, int pad, int Ho) {
    double sum = 0;
    for (int i = 0; i < H; i++) sum += taps(K, g.stride, (i + pad) % g.stride);
    return sum / (double(K) * Ho);
  };
  return axis(g.H, g.KH, g.pad_h, g.Ho) * axis(g.W, g.KW, g.pad_w, g.Wo);
}

}  // namespace dg::cpu
