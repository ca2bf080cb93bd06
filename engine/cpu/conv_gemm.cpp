// Convolutions as implicit GEMMs: the offset tables of each product (engine/cpu/conv_gemm.h).
#include "engine/cpu/conv_gemm.h"

#include <algorithm>
#include <climits>
#include <vector>

#include "engine/cpu/gemm.h"
#include "engine/cpu/parallel.h"
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
  float* work = alloc_floats(ctx, int64_t(gemm_workspace_floats(M, N, K)));
  gemm(M, N, K, A, B, C, accumulate, work);
}

// The image split into its s x s polyphase components, zero-padded: component (a, b) holds
// Ipad[n, c, i s + a, j s + b] (Ipad: the image with pad_h / pad_w zeros before it) in plane
// (a s + b, n, c) of Hq x Wq. A tap (kh, kw) of output pixel (oy, ox) is then component
// (kh % s, kw % s) at (oy + kh / s, ox + kw / s): adjacent ox, adjacent pixels.
struct Polyphase {
  const float* data;
  int Hq, Wq;
  int64_t phase_stride;  // N C Hq Wq
  int64_t tap(int c, int kh, int kw, int s) const {
    return (kh % s * s + kw % s) * phase_stride + int64_t(c) * Hq * Wq + (kh / s) * Wq + kw / s;
  }
  int64_t pixel(int n, int oy, int ox) const { return (int64_t(n) * C) * Hq * Wq + int64_t(oy) * Wq + ox; }
  int C;
};

Polyphase split_phases(Context& ctx, const ColGeom& g, const float* image) {
  const int s = g.stride;
  Polyphase p;
  p.Hq = (g.Ho - 1) + (g.KH - 1) / s + 1;
  p.Wq = (g.Wo - 1) + (g.KW - 1) / s + 1;
  p.phase_stride = int64_t(g.N) * g.C * p.Hq * p.Wq;
  p.C = g.C;
  float* out = alloc_floats(ctx, p.phase_stride * s * s);
  // One image plane at a time (it stays in L1 while its s x s components are written).
#pragma omp parallel for schedule(static) if (p.phase_stride * s * s >= kParallelMinWork)
  for (int nc = 0; nc < g.N * g.C; nc++) {
    const float* src = image + int64_t(nc) * g.H * g.W;
    for (int a = 0; a < s; a++)
      for (int b = 0; b < s; b++) {
        float* dst = out + (a * s + b) * p.phase_stride + int64_t(nc) * p.Hq * p.Wq;
        // Columns j with x = j s + b - pad_w inside [0, W): [j0, j1).
        const int j0 = std::min(p.Wq, ceil_div(std::max(0, g.pad_w - b), s));
        const int j1 = std::max(j0, std::min(p.Wq, g.W - 1 + g.pad_w - b < 0 ? 0 : (g.W - 1 + g.pad_w - b) / s + 1));
        for (int i = 0; i < p.Hq; i++) {
          const int y = i * s + a - g.pad_h;
          float* d = dst + i * p.Wq;
          if (y < 0 || y >= g.H) {
            std::fill(d, d + p.Wq, 0.0f);
            continue;
          }
          const float* row = src + y * g.W + (j0 * s + b - g.pad_w);
          std::fill(d, d + j0, 0.0f);
          for (int j = j0; j < j1; j++) d[j] = row[(j - j0) * s];
          std::fill(d + j1, d + p.Wq, 0.0f);
        }
      }
  }
  p.data = out;
  return p;
}

// `planes` planes of H x W copied into planes of Hp x Wp at (top, left), zeros around them.
float* pad_planes(Context& ctx, const float* src, int planes, int H, int W, int top, int left, int Hp, int Wp) {
  float* out = alloc_floats(ctx, int64_t(planes) * Hp * Wp);
#pragma omp parallel for schedule(static) if (int64_t(planes) * Hp * Wp >= kParallelMinWork)
  for (int q = 0; q < planes; q++) {
    float* dst = out + int64_t(q) * Hp * Wp;
    const float* in = src + int64_t(q) * H * W;
    std::fill(dst, dst + int64_t(top) * Wp, 0.0f);
    for (int y = 0; y < H; y++) {
      float* d = dst + int64_t(y + top) * Wp;
      std::fill(d, d + left, 0.0f);
      std::copy(in + y * W, in + (y + 1) * W, d + left);
      std::fill(d + left + W, d + Wp, 0.0f);
    }
    std::fill(dst + int64_t(top + H) * Wp, dst + int64_t(Hp) * Wp, 0.0f);
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

}  // namespace

bool conv_gemm_fits(const ColGeom& g, int O) {
  const int s = g.stride;
  const int64_t Hq = (g.Ho - 1) + (g.KH - 1) / s + 1, Wq = (g.Wo - 1) + (g.KW - 1) / s + 1;
  const int64_t image = int64_t(g.N) * g.C * std::max<int64_t>(int64_t(g.H) * g.W, s * s * Hq * Wq);
  const int64_t out = int64_t(g.N) * O * (g.Ho + 2 * g.KH) * (g.Wo + 2 * g.KW);  // dout, padded
  const int64_t weights = int64_t(O) * g.C * g.KH * g.KW;
  return std::max({image, out, weights}) < INT_MAX;
}

void conv_forward_gemm(Context& ctx, const ColGeom& g, int O, const float* image, const float* w, float* out) {
  ScratchScope scratch(ctx);
  const Polyphase ph = split_phases(ctx, g, image);
  const int K = int(g.rows()), N = int(g.cols()), s = g.stride, kk = g.KH * g.KW;
  // The sum runs over k = (kh, kw, c), channels innermost: B's rows k, k + 1 are then the
  // same tap of adjacent planes, one stride apart (which the hardware prefetches).
  // B (K x N): row k -> the tap's component and offset, column (n, oy, ox).
  // A = w (O x K) read in that order, C = out (O x N), NCHW.
  int32_t* b_row = alloc_offsets(ctx, K);
  int32_t* a_col = alloc_offsets(ctx, K);
  for (int kh = 0; kh < g.KH; kh++)
    for (int kw = 0; kw < g.KW; kw++)
      for (int c = 0; c < g.C; c++) {
        const int k = (kh * g.KW + kw) * g.C + c;
        b_row[k] = int32_t(ph.tap(c, kh, kw, s));
        a_col[k] = c * kk + kh * g.KW + kw;
      }
  int32_t* b_col = alloc_offsets(ctx, N);
  for (int n = 0; n < g.N; n++)
    for (int oy = 0; oy < g.Ho; oy++)
      for (int ox = 0; ox < g.Wo; ox++) b_col[(int64_t(n) * g.Ho + oy) * g.Wo + ox] = int32_t(ph.pixel(n, oy, ox));
  const int32_t* a_row = strided(ctx, O, K);
  const int32_t* c_row = strided(ctx, O, int64_t(g.Ho) * g.Wo);
  const int32_t* c_col = nchw_columns(ctx, g.N, O, g.Ho, g.Wo);
  run_gemm(ctx, O, N, K, {w, a_row, a_col}, {ph.data, b_row, b_col}, {out, c_row, c_col}, false);
}

void conv_backward_filter_gemm(Context& ctx, const ColGeom& g, int O, const float* image, const float* dout,
                               float* dw) {
  ScratchScope scratch(ctx);
  // dw (O x C KH KW) += dout (O x K) * im2col^T (K x C KH KW), K = (n, oy, ox). A row of
  // im2col^T, the taps of one pixel, is KH runs of KW adjacent pixels of the padded image.
  const int Hp = std::max(g.H + g.pad_h, (g.Ho - 1) * g.stride + g.KH);
  const int Wp = std::max(g.W + g.pad_w, (g.Wo - 1) * g.stride + g.KW);
  const float* padded = pad_planes(ctx, image, g.N * g.C, g.H, g.W, g.pad_h, g.pad_w, Hp, Wp);
  const int N = int(g.rows()), K = int(g.cols()), s = g.stride, kk = g.KH * g.KW;
  const int32_t* a_row = strided(ctx, O, int64_t(g.Ho) * g.Wo);
  const int32_t* a_col = nchw_columns(ctx, g.N, O, g.Ho, g.Wo);
  int32_t* b_row = alloc_offsets(ctx, K);
  for (int n = 0; n < g.N; n++)
    for (int oy = 0; oy < g.Ho; oy++)
      for (int ox = 0; ox < g.Wo; ox++)
        b_row[(int64_t(n) * g.Ho + oy) * g.Wo + ox] = int32_t(int64_t(n) * g.C * Hp * Wp + oy * s * Wp + ox * s);
  int32_t* b_col = alloc_offsets(ctx, N);
  for (int c = 0; c < g.C; c++)
    for (int kh = 0; kh < g.KH; kh++)
      for (int kw = 0; kw < g.KW; kw++) b_col[c * kk + kh * g.KW + kw] = int32_t(int64_t(c) * Hp * Wp + kh * Wp + kw);
  const int32_t* c_row = strided(ctx, O, N);
  const int32_t* c_col = strided(ctx, N, 1);
  run_gemm(ctx, O, N, K, {dout, a_row, a_col}, {padded, b_row, b_col}, {dw, c_row, c_col}, true);
}

void conv_backward_data_gemm(Context& ctx, const ColGeom& g, int O, const float* dout, const float* w,
                             float* dimage) {
  ScratchScope scratch(ctx);
  const int s = g.stride, kk = g.KH * g.KW;
  // Pixel iy of dI is in phase ry = (iy + pad_h) mod s and row qy = (iy + pad_h) div s of it;
  // its taps kh = ry + t s read dout row oy = qy - t. Rows of dout padded so that every such
  // oy of every phase is inside: [lo, hi] = [min(0, qy_min - T + 1), max(Ho - 1, qy_max)].
  const int Tmax = taps(g.KH, s, 0), Vmax = taps(g.KW, s, 0);
  const int top = Tmax - 1, bottom = std::max(0, (g.H - 1 + g.pad_h) / s - (g.Ho - 1));
  const int left = Vmax - 1, right = std::max(0, (g.W - 1 + g.pad_w) / s - (g.Wo - 1));
  const int Hp = g.Ho + top + bottom, Wp = g.Wo + left + right;
  const float* padded = pad_planes(ctx, dout, g.N * O, g.Ho, g.Wo, top, left, Hp, Wp);
  // Each phase: dI_phase (C x N |phase|) = w_phase (C x O T V) * windows (O T V x N |phase|),
  // into a phase-major buffer (adjacent columns), then interleaved into dI.
  float* staged = alloc_floats(ctx, int64_t(g.N) * g.C * g.H * g.W);
  struct Phase {
    int ry, rx, qy0, qx0, Hq, Wq;
    int64_t at;  // offset in `staged`
  };
  std::vector<Phase> phases;
  int64_t at = 0;
  for (int ry = 0; ry < s; ry++)
    for (int rx = 0; rx < s; rx++) {
      // Rows of the phase: iy = qy s + ry - pad_h in [0, H).
      const int qy0 = ceil_div(std::max(0, g.pad_h - ry), s), qy1 = (g.H - 1 + g.pad_h - ry) / s;
      const int qx0 = ceil_div(std::max(0, g.pad_w - rx), s), qx1 = (g.W - 1 + g.pad_w - rx) / s;
      if (g.H - 1 + g.pad_h < ry || g.W - 1 + g.pad_w < rx || qy1 < qy0 || qx1 < qx0) continue;
      phases.push_back({ry, rx, qy0, qx0, qy1 - qy0 + 1, qx1 - qx0 + 1, at});
      at += int64_t(g.N) * g.C * (qy1 - qy0 + 1) * (qx1 - qx0 + 1);
    }
  for (const Phase& p : phases) {
    const int T = taps(g.KH, s, p.ry), V = taps(g.KW, s, p.rx);
    const int M = g.C, N = g.N * p.Hq * p.Wq, K = O * T * V;
    if (K == 0) {  // no tap reaches these pixels
      std::fill(staged + p.at, staged + p.at + int64_t(M) * N, 0.0f);
      continue;
    }
    // A (C x (o, t, v)) = w[o, c, ry + t s, rx + v s], staged row by row (w's own layout
    // puts the taps of one c 4 KB apart, a cache line each).
    float* wp = alloc_floats(ctx, int64_t(M) * K);
    // B ((o, t, v) x (n, qy, qx)) = dout[n, o, qy - t, qx - v] in the padded copy.
    int32_t* b_row = alloc_offsets(ctx, K);
    for (int t = 0; t < T; t++)  // k = (t, v, o), channels innermost (see the forward)
      for (int v = 0; v < V; v++)
        for (int o = 0; o < O; o++) {
          const int k = (t * V + v) * O + o;
          for (int c = 0; c < M; c++) wp[int64_t(c) * K + k] = w[(int64_t(o) * g.C + c) * kk + (p.ry + t * s) * g.KW + p.rx + v * s];
          b_row[k] = int32_t(int64_t(o) * Hp * Wp + (top - t) * Wp + left - v);  // (top >= t, left >= v)
        }
    const int32_t* a_row = strided(ctx, M, K);
    const int32_t* a_col = strided(ctx, K, 1);
    int32_t* b_col = alloc_offsets(ctx, N);
    for (int n = 0; n < g.N; n++)
      for (int i = 0; i < p.Hq; i++)
        for (int j = 0; j < p.Wq; j++)
          b_col[(int64_t(n) * p.Hq + i) * p.Wq + j] = int32_t(int64_t(n) * O * Hp * Wp + (p.qy0 + i) * Wp + p.qx0 + j);
    const int32_t* c_row = strided(ctx, M, int64_t(p.Hq) * p.Wq);
    const int32_t* c_col = nchw_columns(ctx, g.N, M, p.Hq, p.Wq);
    run_gemm(ctx, M, N, K, {wp, a_row, a_col}, {padded, b_row, b_col}, {staged + p.at, c_row, c_col}, false);
  }
  // Interleave: dI[n, c, qy s + ry - pad_h, qx s + rx - pad_w] = phase (ry, rx) at (n, c, qy, qx).
#pragma omp parallel for schedule(static) if (int64_t(g.N) * g.C * g.H * g.W >= kParallelMinWork)
  for (int plane = 0; plane < g.N * g.C; plane++) {
    float* dst = dimage + int64_t(plane) * g.H * g.W;
    for (const Phase& p : phases) {
      const float* src = staged + p.at + int64_t(plane) * p.Hq * p.Wq;
      for (int i = 0; i < p.Hq; i++) {
        float* row = dst + int64_t((p.qy0 + i) * s + p.ry - g.pad_h) * g.W + p.qx0 * s + p.rx - g.pad_w;
        for (int j = 0; j < p.Wq; j++) row[j * s] = src[i * p.Wq + j];
      }
    }
  }
}

double backward_data_phase_cost(const ColGeom& g) {
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
