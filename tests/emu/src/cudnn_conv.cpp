// cuDNN convolutions: forward, backward-data and backward-filter as direct loops written from
// the cuDNN API reference's definitions (never engine/cpu, so that the CPU reference and this
// are two implementations), the algorithm queries and Find*Ex.
//
// The emulator's algorithms stand in for cuDNN's by what code can observe of them:
//  - which shapes each supports (FFT and Winograd kernels need stride 1, Winograd 3x3 filters;
//    FWD_ALGO_DIRECT and BWD_FILTER_ALGO_WINOGRAD are never supported, as in cuDNN);
//  - the order in which each sums a result's products (in order, reversed, pairwise, in
//    chunks of 4 or 8): two algorithms give different bits, so a choice that differs between
//    two runs shows in a bit-for-bit comparison;
//  - determinism: BWD_DATA_ALGO_0 and BWD_FILTER_ALGO_0/3 are non-deterministic in cuDNN
//    (atomics); here they sum in an order drawn anew at every call;
//  - workspace: the algorithms that need one copy their input into it and read it from there;
//    a smaller workspace than the algorithm needs is CUDNN_STATUS_BAD_PARAM;
//  - math: with CUDNN_DEFAULT_MATH or CUDNN_TENSOR_OP_MATH the tensor-core algorithms round
//    their inputs to TF32; CUDNN_FMA_MATH never does; where TF32 is allowed Find and the
//    heuristics list such an algorithm twice, with tensor ops and as FMA;
//  - alignment: the FFT, Winograd and precomputed-GEMM algorithms need every buffer 16-byte
//    aligned (vector loads); Find reports them unsupported for other pointers, and running one
//    on them is CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER;
//  - timing: Find's times come from a cost model times a factor drawn per search from
//    DGEMU_FIND_SEED (default DGEMU_SEED): real timings vary from run to run, so two processes
//    with different seeds may rank algorithms differently; the _v7 heuristics rank by the cost
//    model alone.
// Find*Ex blocks until done (as cuDNN's does), writes NaN into the output buffer it is handed
// and into the part of the workspace its algorithms use, and returns its results sorted by
// time, failures last.
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "cudnn_emu.h"
#include "tf32.h"

using namespace dgemu;

namespace {

enum class Primitive { forward, backward_data, backward_filter };
enum class Sum { in_order, reversed, pairwise, chunks4, chunks8, shuffled };

// One convolution "x (N, C, H, W) * w (K, C, R, S) -> y (N, K, P, Q)".
struct Geometry {
  int N, C, H, W, K, R, S, P, Q, pad_h, pad_w, u, v, dil_h, dil_w;
  bool flip;  // CUDNN_CONVOLUTION mirrors the filter
  double macs() const { return double(N) * K * P * Q * C * R * S; }
};

struct Algo {
  int id;
  const char* name;
  Sum sum;
  bool deterministic;
  bool tensor_ops;     // may use TF32 tensor cores
  bool aligned16;      // needs 16-byte aligned buffers
  int workspace;       // 0: none, 1: a copy of the input read from the workspace
  double cost;         // relative time per multiply-add in the cost model
  bool (*supports)(const Geometry&);
};

bool always(const Geometry&) { return true; }
bool never(const Geometry&) { return false; }
bool unit_stride(const Geometry& g) { return g.u == 1 && g.v == 1 && g.dil_h == 1 && g.dil_w == 1; }
bool winograd3x3(const Geometry& g) { return unit_stride(g) && g.R == 3 && g.S == 3; }

const Algo kForward[] = {
    {0, "IMPLICIT_GEMM", Sum::in_order, true, false, false, 0, 1.00, always},
    {1, "IMPLICIT_PRECOMP_GEMM", Sum::chunks4, true, true, true, 0, 0.95, always},
    {2, "GEMM", Sum::in_order, true, false, false, 1, 1.05, always},
    {3, "DIRECT", Sum::in_order, true, false, false, 0, 1.00, never},
    {4, "FFT", Sum::pairwise, true, false, true, 1, 0.90, unit_stride},
    {5, "FFT_TILING", Sum::reversed, true, false, true, 1, 0.97, unit_stride},
    {6, "WINOGRAD", Sum::chunks8, true, false, true, 0, 0.92, winograd3x3},
    {7, "WINOGRAD_NONFUSED", Sum::pairwise, true, true, true, 1, 0.93, winograd3x3},
};
const Algo kBackwardData[] = {
    {0, "ALGO_0", Sum::shuffled, false, false, false, 0, 0.90, always},
    {1, "ALGO_1", Sum::in_order, true, true, false, 0, 1.00, always},
    {2, "FFT", Sum::pairwise, true, false, true, 1, 0.95, unit_stride},
    {3, "FFT_TILING", Sum::reversed, true, false, true, 1, 0.98, unit_stride},
    {4, "WINOGRAD", Sum::chunks8, true, false, true, 0, 0.93, winograd3x3},
    {5, "WINOGRAD_NONFUSED", Sum::chunks4, true, true, true, 1, 0.96, winograd3x3},
};
const Algo kBackwardFilter[] = {
    {0, "ALGO_0", Sum::shuffled, false, false, false, 0, 0.90, always},
    {1, "ALGO_1", Sum::in_order, true, true, false, 0, 1.00, always},
    {2, "FFT", Sum::pairwise, true, false, true, 1, 0.95, unit_stride},
    {3, "ALGO_3", Sum::shuffled, false, false, false, 1, 0.92, always},
    {4, "WINOGRAD", Sum::in_order, true, false, false, 0, 1.00, never},
    {5, "WINOGRAD_NONFUSED", Sum::chunks8, true, true, true, 1, 0.97, winograd3x3},
    {6, "FFT_TILING", Sum::reversed, true, false, true, 1, 0.99, unit_stride},
};

const Algo* table(Primitive p, int* count) {
  switch (p) {
    case Primitive::forward: *count = 8; return kForward;
    case Primitive::backward_data: *count = 6; return kBackwardData;
    default: *count = 7; return kBackwardFilter;
  }
}

const char* primitive_name(Primitive p) {
  return p == Primitive::forward ? "cudnnConvolutionForward"
         : p == Primitive::backward_data ? "cudnnConvolutionBackwardData"
                                         : "cudnnConvolutionBackwardFilter";
}

// ---- arguments ----

cudnnStatus_t geometry(const char* call, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                       cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, Geometry* g) {
  if (!live_desc(x) || !live_desc(w) || !live_desc(conv) || !live_desc(y) || !x->set || !w->set || !conv->set || !y->set)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": a descriptor is not live or not set");
  *g = {x->n, x->c, x->h, x->w, w->k, w->h, w->w, y->h, y->w, conv->pad_h, conv->pad_w, conv->u, conv->v,
        conv->dil_h, conv->dil_w, conv->mode == CUDNN_CONVOLUTION};
  const int eh = g->dil_h * (g->R - 1) + 1, ew = g->dil_w * (g->S - 1) + 1;
  const int P = g->H + 2 * g->pad_h >= eh ? 1 + (g->H + 2 * g->pad_h - eh) / g->u : 0;
  const int Q = g->W + 2 * g->pad_w >= ew ? 1 + (g->W + 2 * g->pad_w - ew) / g->v : 0;
  if (x->c != w->c || y->n != x->n || y->c != w->k || y->h != P || y->w != Q)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM,
                      std::string(call) + ": x (" + std::to_string(x->n) + "," + std::to_string(x->c) + "," +
                          std::to_string(x->h) + "," + std::to_string(x->w) + ") * w (" + std::to_string(w->k) + "," +
                          std::to_string(w->c) + "," + std::to_string(w->h) + "," + std::to_string(w->w) +
                          ") gives (" + std::to_string(x->n) + "," + std::to_string(w->k) + "," + std::to_string(P) +
                          "," + std::to_string(Q) + "), not the y descriptor's (" + std::to_string(y->n) + "," +
                          std::to_string(y->c) + "," + std::to_string(y->h) + "," + std::to_string(y->w) + ")");
  return CUDNN_STATUS_SUCCESS;
}

size_t input_bytes(Primitive p, const Geometry& g) {
  const size_t x = size_t(g.N) * g.C * g.H * g.W, y = size_t(g.N) * g.K * g.P * g.Q;
  return 4 * (p == Primitive::backward_data ? y : x);
}
size_t workspace_bytes(Primitive p, const Algo& a, const Geometry& g) { return a.workspace ? input_bytes(p, g) : 0; }
bool tf32_for(const Algo& a, cudnnMathType_t math) { return a.tensor_ops && math != CUDNN_FMA_MATH; }

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// ---- the arithmetic ----
// A call computes its outputs in groups of J that share one sequence of terms: forward, one
// output plane (n, k) of P x Q values; backward-data, one input plane (n, c) of H x W values;
// backward-filter, the K filters at one (c, r, s). Term t of the group's sequence (canonical
// order: (c, r, s), (k, r, s) or (n, p, q)) gives one product per output, zero where the term
// falls into padding or between strides (adding an exact zero changes no sum). Each output's
// sum of its terms is taken in the algorithm's order.

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

struct Run {
  Primitive prim;
  Geometry g;
  Algo algo;
  bool tf32;
  float alpha, beta;
  const float* a;  // forward: x; backward-data: dy; backward-filter: x
  const float* b;  // forward: w; backward-data: w;  backward-filter: dy
  float* out;
  float* workspace;
  uint64_t seed;
};

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

// ---- checks shared by the execution calls ----

std::string check_buffer(const char* what, const void* p, size_t bytes) {
  std::string why = check_device_range(p, bytes);
  return why.empty() ? "" : std::string(what) + ": " + why;
}

cudnnStatus_t check_buffers(const char* call, Primitive prim, const Geometry& g, const void* a, const void* b,
                            const void* out) {
  const size_t x = 4 * size_t(g.N) * g.C * g.H * g.W, w = 4 * size_t(g.K) * g.C * g.R * g.S,
               y = 4 * size_t(g.N) * g.K * g.P * g.Q;
  const size_t a_bytes = prim == Primitive::backward_data ? y : x;
  const size_t b_bytes = prim == Primitive::forward ? w : prim == Primitive::backward_data ? w : y;
  const size_t out_bytes = prim == Primitive::forward ? y : prim == Primitive::backward_data ? x : w;
  for (const std::string& why : {check_buffer("input", a, a_bytes), check_buffer("second input", b, b_bytes),
                                 check_buffer("output", out, out_bytes)})
    if (!why.empty()) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": " + why);
  return CUDNN_STATUS_SUCCESS;
}

// Find's timing noise: DGEMU_FIND_SEED, else DGEMU_SEED, so that a run repeats; a test that
// needs two processes to time differently (as two runs on a GPU may) gives each its own.
uint64_t process_seed() {
  static const uint64_t s = [] {
    if (const char* e = std::getenv("DGEMU_FIND_SEED")) return uint64_t(std::strtoull(e, nullptr, 10));
    return config().seed;
  }();
  return s;
}

// The modelled time of algorithm `a` (microseconds), with a per-process, per-search factor.
float modelled_us(const Algo& a, const Geometry& g, bool noise, uint64_t search) {
  double t = 2.0 + a.cost * g.macs() * 1e-4;
  if (noise) {
    std::mt19937_64 r(process_seed() ^ (search * 0x2545f4914f6cdd1dull) ^ uint64_t(a.id + 1) * 0x9e37ull);
    t *= 0.6 + 0.8 * std::uniform_real_distribution<double>(0, 1)(r);
  }
  return float(t);
}

template <class Perf, class AlgoEnum>
void fill_results(Primitive prim, const Geometry& g, cudnnMathType_t math, bool timed, bool pointers_aligned,
                  size_t workspace_limit, int requested, int* returned, Perf* results) {
  static uint64_t searches = 0;
  const uint64_t search = ++searches;
  int n;
  const Algo* t = table(prim, &n);
  std::vector<Perf> all;
  for (int i = 0; i < n; i++) {
    const Algo& a = t[i];
    // A tensor-core algorithm appears twice where the math type allows TF32 (cuDNN's Find
    // "attempts all algorithms, including their CUDNN_TENSOR_OP_MATH and CUDNN_DEFAULT_MATH
    // versions"): with tensor ops, and as FMA, a little slower.
    for (bool tensor_op : {true, false}) {
      if (tensor_op && !tf32_for(a, math)) continue;
      Perf r{};
      r.algo = AlgoEnum(a.id);
      r.memory = workspace_bytes(prim, a, g);
      r.determinism = a.deterministic ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
      r.mathType = tensor_op ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
      r.time = modelled_us(a, g, timed, search * 2 + (tensor_op ? 0 : 1)) * (tensor_op || !tf32_for(a, math) ? 1e-3f : 1.2e-3f);
      r.status = CUDNN_STATUS_SUCCESS;
      if (!a.supports(g)) r.status = CUDNN_STATUS_NOT_SUPPORTED_SHAPE;
      else if (a.aligned16 && !pointers_aligned) r.status = CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER;
      else if (timed && r.memory > workspace_limit) r.status = CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED;
      if (r.status != CUDNN_STATUS_SUCCESS) r.time = -1.0f;
      all.push_back(r);
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const Perf& x, const Perf& y) {
    if ((x.status == CUDNN_STATUS_SUCCESS) != (y.status == CUDNN_STATUS_SUCCESS)) return x.status == CUDNN_STATUS_SUCCESS;
    return x.time < y.time;
  });
  *returned = std::min(requested, int(all.size()));
  for (int i = 0; i < *returned; i++) results[i] = all[size_t(i)];
}

cudnnStatus_t query_args(cudnnHandle_t handle, int requested, int* returned, const void* results, const char* call) {
  if (!live_cudnn(handle)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": not a live handle");
  if (requested <= 0 || !returned || !results)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": requestedAlgoCount " + std::to_string(requested) +
                                                  " or a null result pointer");
  return CUDNN_STATUS_SUCCESS;
}

// Find*Ex: blocks until the handle's stream is idle, "runs" every algorithm over the buffers,
// leaving NaN in the output buffer and the workspace.
template <class Perf, class AlgoEnum>
cudnnStatus_t find(Primitive prim, cudnnHandle_t handle, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                   cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, const void* a, const void* b,
                   void* out, int requested, int* returned, Perf* results, void* workspace, size_t workspace_bytes_) {
  const std::string call = std::string("cudnnFind") + (prim == Primitive::forward         ? "ConvolutionForward"
                                                       : prim == Primitive::backward_data ? "ConvolutionBackwardData"
                                                                                          : "ConvolutionBackwardFilter") +
                           "AlgorithmEx";
  Lock lock(device_mutex());
  if (cudnnStatus_t s = query_args(handle, requested, returned, results, call.c_str()); s) return s;
  Geometry g;
  if (cudnnStatus_t s = geometry(call.c_str(), x, w, conv, y, &g); s) return s;
  if (cudnnStatus_t s = check_buffers(call.c_str(), prim, g, a, b, out); s) return s;
  if (workspace_bytes_ && !check_device_range(workspace, workspace_bytes_).empty())
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, call + ": workspace: " + check_device_range(workspace, workspace_bytes_));
  Stream* s = stream_of(handle->stream, call.c_str());
  if (!s) return CUDNN_STATUS_BAD_PARAM;
  if (stream_capturing(s)) {
    forbid_in_capture(s, call);
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED, call + " while the stream is being captured");
  }
  synchronize_stream(s, call.c_str());
  const size_t out_bytes = 4 * (prim == Primitive::forward         ? size_t(g.N) * g.K * g.P * g.Q
                                : prim == Primitive::backward_data ? size_t(g.N) * g.C * g.H * g.W
                                                                   : size_t(g.K) * g.C * g.R * g.S);
  std::memset(out, 0xff, out_bytes);
  // The workspace as far as any algorithm would use it for this shape.
  if (workspace_bytes_) std::memset(workspace, 0xff, std::min(workspace_bytes_, input_bytes(prim, g)));
  const bool al = aligned(a) && aligned(b) && aligned(out) && (!workspace_bytes_ || aligned(workspace));
  fill_results<Perf, AlgoEnum>(prim, g, conv->math, true, al, workspace_bytes_, requested, returned, results);
  return CUDNN_STATUS_SUCCESS;
}

template <class Perf, class AlgoEnum>
cudnnStatus_t heuristics(Primitive prim, cudnnHandle_t handle, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                         cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, int requested, int* returned,
                         Perf* results, const char* call) {
  Lock lock(device_mutex());
  if (cudnnStatus_t s = query_args(handle, requested, returned, results, call); s) return s;
  Geometry g;
  if (cudnnStatus_t s = geometry(call, x, w, conv, y, &g); s) return s;
  fill_results<Perf, AlgoEnum>(prim, g, conv->math, false, true, ~size_t(0), requested, returned, results);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t workspace_size(Primitive prim, cudnnHandle_t handle, cudnnTensorDescriptor_t x,
                             cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y,
                             int algo, size_t* bytes, const char* call) {
  Lock lock(device_mutex());
  if (!live_cudnn(handle) || !bytes) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": bad handle or size pointer");
  Geometry g;
  if (cudnnStatus_t s = geometry(call, x, w, conv, y, &g); s) return s;
  int n;
  const Algo* t = table(prim, &n);
  if (algo < 0 || algo >= n) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": algorithm " + std::to_string(algo));
  if (!t[algo].supports(g))
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED, std::string(call) + ": algorithm " + t[algo].name + " does not support this shape");
  *bytes = workspace_bytes(prim, t[algo], g);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t convolve(Primitive prim, cudnnHandle_t handle, const void* alpha, cudnnTensorDescriptor_t x,
                       cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y,
                       int algo, const void* a, const void* b, void* workspace, size_t workspace_bytes_,
                       const void* beta, void* out) {
  const char* call = primitive_name(prim);
  Lock lock(device_mutex());
  if (!live_cudnn(handle)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": not a live handle");
  if (!alpha || !beta) return cudnn_fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, std::string(call) + ": alpha or beta is null");
  Geometry g;
  if (cudnnStatus_t s = geometry(call, x, w, conv, y, &g); s) return s;
  int n;
  const Algo* t = table(prim, &n);
  if (algo < 0 || algo >= n) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": algorithm " + std::to_string(algo));
  const Algo& A = t[algo];
  if (!A.supports(g))
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED, std::string(call) + ": algorithm " + A.name + " does not support this shape");
  if (cudnnStatus_t s = check_buffers(call, prim, g, a, b, out); s) return s;
  const size_t need = workspace_bytes(prim, A, g);
  if (workspace_bytes_ < need)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": algorithm " + A.name + " needs " +
                                                  std::to_string(need) + " bytes of workspace, got " +
                                                  std::to_string(workspace_bytes_));
  if (need && !check_device_range(workspace, need).empty())
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": workspace: " + check_device_range(workspace, need));
  if (A.aligned16 && !(aligned(a) && aligned(b) && aligned(out) && (!need || aligned(workspace))))
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER,
                      std::string(call) + ": algorithm " + A.name + " needs 16-byte aligned buffers; got " + hex(a) +
                          ", " + hex(b) + ", " + hex(out));
  Stream* s = stream_of(handle->stream, call);
  if (!s) return CUDNN_STATUS_BAD_PARAM;
  Run r{prim, g, A, tf32_for(A, conv->math), *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
        static_cast<const float*>(a), static_cast<const float*>(b), static_cast<float*>(out),
        static_cast<float*>(workspace), next_random()};
  if (enqueue(s, std::string(call) + " (" + A.name + ")", [r] { execute(r); }) != cudaSuccess)
    return cudnn_fail(CUDNN_STATUS_EXECUTION_FAILED, std::string(call) + ": " + cudaGetErrorString(cudaGetLastError()));
  return CUDNN_STATUS_SUCCESS;
}

// Every algorithm, twice for the tensor-core ones (with and without tensor ops).
int max_count(Primitive p) {
  int n;
  table(p, &n);
  return 2 * n;
}

}  // namespace

extern "C" {

cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!live_cudnn(handle) || !count) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionForwardAlgorithmMaxCount");
  *count = max_count(Primitive::forward);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!live_cudnn(handle) || !count) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionBackwardDataAlgorithmMaxCount");
  *count = max_count(Primitive::backward_data);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!live_cudnn(handle) || !count) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount");
  *count = max_count(Primitive::backward_filter);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                     const void* x, cudnnFilterDescriptor_t wDesc, const void* w,
                                                     cudnnConvolutionDescriptor_t convDesc,
                                                     cudnnTensorDescriptor_t yDesc, void* y, int requestedAlgoCount,
                                                     int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults,
                                                     void* workSpace, size_t workSpaceSizeInBytes) {
  return find<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      Primitive::forward, handle, xDesc, wDesc, convDesc, yDesc, x, w, y, requestedAlgoCount, returnedAlgoCount,
      perfResults, workSpace, workSpaceSizeInBytes);
}

cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(
    cudnnHandle_t handle, cudnnFilterDescriptor_t wDesc, const void* w, cudnnTensorDescriptor_t dyDesc,
    const void* dy, cudnnConvolutionDescriptor_t convDesc, cudnnTensorDescriptor_t dxDesc, void* dx,
    int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionBwdDataAlgoPerf_t* perfResults, void* workSpace,
    size_t workSpaceSizeInBytes) {
  return find<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      Primitive::backward_data, handle, dxDesc, wDesc, convDesc, dyDesc, dy, w, dx, requestedAlgoCount,
      returnedAlgoCount, perfResults, workSpace, workSpaceSizeInBytes);
}

cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(
    cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc, const void* x, cudnnTensorDescriptor_t dyDesc,
    const void* y, cudnnConvolutionDescriptor_t convDesc, cudnnFilterDescriptor_t dwDesc, void* dw,
    int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionBwdFilterAlgoPerf_t* perfResults,
    void* workSpace, size_t workSpaceSizeInBytes) {
  return find<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      Primitive::backward_filter, handle, xDesc, dwDesc, convDesc, dyDesc, x, y, dw, requestedAlgoCount,
      returnedAlgoCount, perfResults, workSpace, workSpaceSizeInBytes);
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                     cudnnFilterDescriptor_t wDesc,
                                                     cudnnConvolutionDescriptor_t convDesc,
                                                     cudnnTensorDescriptor_t yDesc, int requestedAlgoCount,
                                                     int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      Primitive::forward, handle, xDesc, wDesc, convDesc, yDesc, requestedAlgoCount, returnedAlgoCount, perfResults,
      "cudnnGetConvolutionForwardAlgorithm_v7");
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t handle, cudnnFilterDescriptor_t wDesc,
                                                          cudnnTensorDescriptor_t dyDesc,
                                                          cudnnConvolutionDescriptor_t convDesc,
                                                          cudnnTensorDescriptor_t dxDesc, int requestedAlgoCount,
                                                          int* returnedAlgoCount,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      Primitive::backward_data, handle, dxDesc, wDesc, convDesc, dyDesc, requestedAlgoCount, returnedAlgoCount,
      perfResults, "cudnnGetConvolutionBackwardDataAlgorithm_v7");
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                            cudnnTensorDescriptor_t dyDesc,
                                                            cudnnConvolutionDescriptor_t convDesc,
                                                            cudnnFilterDescriptor_t dwDesc, int requestedAlgoCount,
                                                            int* returnedAlgoCount,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      Primitive::backward_filter, handle, xDesc, dwDesc, convDesc, dyDesc, requestedAlgoCount, returnedAlgoCount,
      perfResults, "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                      cudnnFilterDescriptor_t wDesc,
                                                      cudnnConvolutionDescriptor_t convDesc,
                                                      cudnnTensorDescriptor_t yDesc, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t* sizeInBytes) {
  return workspace_size(Primitive::forward, handle, xDesc, wDesc, convDesc, yDesc, algo, sizeInBytes,
                        "cudnnGetConvolutionForwardWorkspaceSize");
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle, cudnnFilterDescriptor_t wDesc,
                                                           cudnnTensorDescriptor_t dyDesc,
                                                           cudnnConvolutionDescriptor_t convDesc,
                                                           cudnnTensorDescriptor_t dxDesc,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t* sizeInBytes) {
  return workspace_size(Primitive::backward_data, handle, dxDesc, wDesc, convDesc, dyDesc, algo, sizeInBytes,
                        "cudnnGetConvolutionBackwardDataWorkspaceSize");
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                             cudnnTensorDescriptor_t dyDesc,
                                                             cudnnConvolutionDescriptor_t convDesc,
                                                             cudnnFilterDescriptor_t gradDesc,
                                                             cudnnConvolutionBwdFilterAlgo_t algo,
                                                             size_t* sizeInBytes) {
  return workspace_size(Primitive::backward_filter, handle, xDesc, gradDesc, convDesc, dyDesc, algo, sizeInBytes,
                        "cudnnGetConvolutionBackwardFilterWorkspaceSize");
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha, cudnnTensorDescriptor_t xDesc,
                                      const void* x, cudnnFilterDescriptor_t wDesc, const void* w,
                                      cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionFwdAlgo_t algo,
                                      void* workSpace, size_t workSpaceSizeInBytes, const void* beta,
                                      cudnnTensorDescriptor_t yDesc, void* y) {
  return convolve(Primitive::forward, handle, alpha, xDesc, wDesc, convDesc, yDesc, algo, x, w, workSpace,
                  workSpaceSizeInBytes, beta, y);
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha, cudnnFilterDescriptor_t wDesc,
                                           const void* w, cudnnTensorDescriptor_t dyDesc, const void* dy,
                                           cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionBwdDataAlgo_t algo,
                                           void* workSpace, size_t workSpaceSizeInBytes, const void* beta,
                                           cudnnTensorDescriptor_t dxDesc, void* dx) {
  return convolve(Primitive::backward_data, handle, alpha, dxDesc, wDesc, convDesc, dyDesc, algo, dy, w, workSpace,
                  workSpaceSizeInBytes, beta, dx);
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha, cudnnTensorDescriptor_t xDesc,
                                             const void* x, cudnnTensorDescriptor_t dyDesc, const void* dy,
                                             cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                             size_t workSpaceSizeInBytes, const void* beta,
                                             cudnnFilterDescriptor_t dwDesc, void* dw) {
  return convolve(Primitive::backward_filter, handle, alpha, xDesc, dwDesc, convDesc, dyDesc, algo, x, dy, workSpace,
                  workSpaceSizeInBytes, beta, dw);
}

}  // extern "C"
