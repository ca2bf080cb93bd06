// cuDNN convolutions' arithmetic: forward, backward-data and backward-filter as direct loops
// written from the cuDNN API reference's definitions (never engine/cpu, so that the CPU
// reference and this are two implementations), each algorithm summing in its own order
// (cudnn_conv.cpp). The convolutions' inner loops: built uninstrumented under DG_SANITIZE
// (tests/emu/CMakeLists.txt).
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "cudnn_conv.h"
#include "tf32.h"

namespace dgemu {

// ---- the arithmetic ----
// A call computes its outputs in groups of J that share one sequence of terms: forward, one
// output plane (n, k) of P x Q values; backward-data, one input plane (n, c) of H x W values;
// backward-filter, the K filters at one (c, r, s). Term t of the group's sequence (canonical
// order: (c, r, s), (k, r, s) or (n, p, q)) gives one product per output, zero where the term
// falls into padding or between strides (adding an exact zero changes no sum). Each output's
// sum of its terms is taken in the algorithm's order.

namespace {

int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int ceil_div(int a, int b) { return -floor_div(-a, b); }

// Sums, for each of J outputs, the `terms` products that row(t, dst) writes for term t.
template <class Row>
void reduce_group(int terms, int J, Sum sum, std::mt19937_64& rng, const Row& row, float* result) {
  std::vector<float> acc(static_cast<size_t>(J), 0.0f), r(static_cast<size_t>(J));
  switch (sum) {
    case Sum::in_order:
    case Sum::reversed:
      for (int i = 0; i < terms; i++) {
        row(sum == Sum::in_order ? i : terms - 1 - i, r.data());
        for (int j = 0; j < J; j++) acc[size_t(j)] += r[size_t(j)];
      }
      break;
    case Sum::chunks4:
    case Sum::chunks8: {
      const int c = sum == Sum::chunks4 ? 4 : 8;
      std::vector<float> part(size_t(J), 0.0f);
      for (int t = 0; t < terms; t++) {
        row(t, r.data());
        for (int j = 0; j < J; j++) part[size_t(j)] += r[size_t(j)];
        if (t % c == c - 1 || t == terms - 1)
          for (int j = 0; j < J; j++) acc[size_t(j)] += part[size_t(j)], part[size_t(j)] = 0.0f;
      }
      break;
    }
    case Sum::pairwise: {  // neighbours, then neighbouring pairs, ...
      static thread_local std::vector<float> all;  // reused: a plane's terms can take 100 MB
      all.resize(size_t(terms) * size_t(J));
      for (int t = 0; t < terms; t++) row(t, all.data() + size_t(t) * size_t(J));
      for (int n = terms; n > 1; n = n / 2 + n % 2) {
        for (int i = 0; i < n / 2; i++)
          for (int j = 0; j < J; j++)
            all[size_t(i) * J + j] = all[size_t(2 * i) * J + j] + all[size_t(2 * i + 1) * J + j];
        if (n % 2)
          for (int j = 0; j < J; j++) all[size_t(n / 2) * J + j] = all[size_t(n - 1) * J + j];
      }
      if (terms > 0) std::copy(all.begin(), all.begin() + J, acc.begin());
      break;
    }
    case Sum::shuffled: {  // atomics: partial sums of 8 terms arrive in any order
      const int parts = (terms + 7) / 8;
      std::vector<float> part(size_t(parts) * size_t(J), 0.0f);
      for (int t = 0; t < terms; t++) {
        row(t, r.data());
        for (int j = 0; j < J; j++) part[size_t(t / 8) * J + j] += r[size_t(j)];
      }
      std::vector<int> order(static_cast<size_t>(parts));
      for (int i = 0; i < parts; i++) order[size_t(i)] = i;
      std::shuffle(order.begin(), order.end(), rng);
      for (int i : order)
        for (int j = 0; j < J; j++) acc[size_t(j)] += part[size_t(i) * J + j];
      break;
    }
  }
  std::copy(acc.begin(), acc.end(), result);
}

}  // namespace

void execute(const Run& r) {
  const Geometry& g = r.g;
  std::mt19937_64 rng(r.seed);
  const size_t xs = size_t(g.N) * g.C * g.H * g.W, ws = size_t(g.K) * g.C * g.R * g.S, ys = size_t(g.N) * g.K * g.P * g.Q;
  const size_t a_n = r.prim == Primitive::backward_data ? ys : xs, b_n = r.prim == Primitive::backward_filter ? ys : ws;
  const float* a = r.a;
  if (r.algo.workspace) {  // this algorithm reads its input from the workspace
    std::memcpy(r.workspace, r.a, a_n * sizeof(float));
    a = r.workspace;
  }
  // The inputs as the algorithm reads them: TF32 when it uses tensor cores.
  std::vector<float> A(a, a + a_n), B(r.b, r.b + b_n);
  if (r.tf32) {
    for (float& v : A) v = to_tf32(v);
    for (float& v : B) v = to_tf32(v);
  }
  auto filter = [&](int k, int c, int rr, int s) {  // CUDNN_CONVOLUTION mirrors the filter
    if (g.flip) rr = g.R - 1 - rr, s = g.S - 1 - s;
    return B[((size_t(k) * g.C + c) * g.R + rr) * g.S + s];
  };
  auto blend = [&](float* o, const float* v, int J, ptrdiff_t stride) {  // o is not read when beta == 0
    for (int j = 0; j < J; j++) {
      float& y = o[j * stride];
      y = r.beta == 0.0f ? r.alpha * v[j] : r.alpha * v[j] + r.beta * y;
    }
  };
  if (r.prim == Primitive::forward) {
    const int J = g.P * g.Q;
    std::vector<float> v(static_cast<size_t>(J));
    for (int n = 0; n < g.N; n++)
      for (int k = 0; k < g.K; k++) {
        reduce_group(g.C * g.R * g.S, J, r.algo.sum, rng, [&](int t, float* row) {
          const int c = t / (g.R * g.S), rr = t / g.S % g.R, s = t % g.S;
          const float wv = filter(k, c, rr, s);
          const int off = s * g.dil_w - g.pad_w;  // input column of output column q: q v + off
          const int lo = std::clamp(ceil_div(-off, g.v), 0, g.Q), hi = std::clamp(floor_div(g.W - 1 - off, g.v) + 1, lo, g.Q);
          for (int p = 0; p < g.P; p++, row += g.Q) {
            const int h = p * g.u - g.pad_h + rr * g.dil_h;
            if (h < 0 || h >= g.H) {
              std::fill(row, row + g.Q, 0.0f);
              continue;
            }
            const float* xrow = A.data() + ((size_t(n) * g.C + c) * g.H + h) * g.W + off;
            std::fill(row, row + lo, 0.0f);
            if (g.v == 1)
              for (int q = lo; q < hi; q++) row[q] = xrow[q] * wv;
            else
              for (int q = lo; q < hi; q++) row[q] = xrow[q * g.v] * wv;
            std::fill(row + hi, row + g.Q, 0.0f);
          }
        }, v.data());
        blend(r.out + (size_t(n) * g.K + k) * J, v.data(), J, 1);
      }
  } else if (r.prim == Primitive::backward_data) {
    const int J = g.H * g.W;
    std::vector<float> v(static_cast<size_t>(J));
    for (int n = 0; n < g.N; n++)
      for (int c = 0; c < g.C; c++) {
        reduce_group(g.K * g.R * g.S, J, r.algo.sum, rng, [&](int t, float* row) {
          const int k = t / (g.R * g.S), rr = t / g.S % g.R, s = t % g.S;
          const float wv = filter(k, c, rr, s);
          const int off = s * g.dil_w - g.pad_w;  // output column q reads input column q v + off
          const int lo = std::max(ceil_div(-off, g.v), 0), hi = std::min(floor_div(g.W - 1 - off, g.v) + 1, g.Q);
          std::fill(row, row + J, 0.0f);
          for (int h = 0; h < g.H; h++, row += g.W) {
            const int ph = h + g.pad_h - rr * g.dil_h;  // = p * u
            if (ph < 0 || ph % g.u || ph / g.u >= g.P) continue;
            const float* dyrow = A.data() + ((size_t(n) * g.K + k) * g.P + ph / g.u) * g.Q;
            if (g.v == 1)
              for (int q = lo; q < hi; q++) row[q + off] = dyrow[q] * wv;
            else
              for (int q = lo; q < hi; q++) row[q * g.v + off] = dyrow[q] * wv;
          }
        }, v.data());
        blend(r.out + (size_t(n) * g.C + c) * J, v.data(), J, 1);
      }
  } else {
    // dy transposed to (N, P, Q, K), so that one term's K products are contiguous.
    std::vector<float> dyT(ys);
    for (int n = 0; n < g.N; n++)
      for (int k = 0; k < g.K; k++)
        for (int pq = 0; pq < g.P * g.Q; pq++) dyT[(size_t(n) * g.P * g.Q + pq) * g.K + k] = B[(size_t(n) * g.K + k) * g.P * g.Q + pq];
    std::vector<float> v(static_cast<size_t>(g.K));
    for (int c = 0; c < g.C; c++)
      for (int rr = 0; rr < g.R; rr++)
        for (int s = 0; s < g.S; s++) {
          reduce_group(g.N * g.P * g.Q, g.K, r.algo.sum, rng, [&](int t, float* row) {
            const int n = t / (g.P * g.Q), p = t / g.Q % g.P, q = t % g.Q;
            const int h = p * g.u - g.pad_h + rr * g.dil_h, w = q * g.v - g.pad_w + s * g.dil_w;
            if (h < 0 || h >= g.H || w < 0 || w >= g.W) {
              std::fill(row, row + g.K, 0.0f);
              return;
            }
            const float xv = A[((size_t(n) * g.C + c) * g.H + h) * g.W + w];
            const float* d = dyT.data() + size_t(t) * g.K;
            for (int k = 0; k < g.K; k++) row[k] = xv * d[k];
          }, v.data());
          const int fr = g.flip ? g.R - 1 - rr : rr, fs = g.flip ? g.S - 1 - s : s;
          blend(r.out + (size_t(c) * g.R + fr) * g.S + fs, v.data(), g.K, ptrdiff_t(g.C) * g.R * g.S);
        }
  }
}

}  // namespace dgemu
