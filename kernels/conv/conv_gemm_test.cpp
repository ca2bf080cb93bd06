// The CPU GEMM (engine/cpu/gemm.h) against a double-precision triple loop, for every register
// tile built (the AVX-512 tile's source too, built for AVX2), and the implicit-GEMM
// convolutions (kernels/conv/conv_gemm.h) against the im2col reference over many geometries.
// Tolerance: float32 sums of K products of N(0,1) values err by ~K * 6e-8 * sqrt-ish of their
// magnitudes; 1e-5 relative to the largest |value| plus 1e-5 absolute holds for K <= 5000,
// while a wrong offset, tap or phase errs by O(1).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/conv/conv_gemm.h"
#include "kernels/conv/conv_reference.h"
#include "engine/cpu/gemm.h"
#include "engine/context.h"
#include "tests/gradcheck.h"

using namespace dg;
using dg::test::random_vector;

namespace {

// The worst |a - b| over max |b|, and whether every element is within tolerance.
void check_close(const std::vector<float>& got, const std::vector<double>& want, const std::string& what,
                 double rtol = 1e-5) {
  REQUIRE(got.size() == want.size());
  REQUIRE(!got.empty());
  double scale = 0, worst = 0;
  for (double v : want) scale = std::max(scale, std::fabs(v));
  size_t at = 0;
  for (size_t i = 0; i < got.size(); i++) {
    const double e = std::fabs(double(got[i]) - want[i]);
    if (!(e <= worst)) {  // (NaN too)
      worst = e;
      at = i;
    }
  }
  CAPTURE(what);
  CAPTURE(at);
  CAPTURE(got[at]);
  CAPTURE(want[at]);
  CHECK(scale > 0);
  CHECK(worst <= rtol * scale + 1e-5);
}

// C (M x N) = A * B through offset tables: A stored transposed (column-major, lda = M + 3)
// and B with its columns in a shuffled order, so rows and columns are not plain strides;
// C written into a larger buffer with a row stride and every other column.
// rows_apart: A's rows are not adjacent in memory (a shuffled order); c_by_columns: C stored
// column-major (its rows adjacent, as a narrow product writes them); a_by_rows: A row-major
// (its rows run along k, as a dot product reads them); c_plane > 0: C stored as NCHW planes of
// c_plane rows (its rows adjacent within a plane, as a convolution writes its output).
void check_gemm(const cpu::GemmKernel* kern, int M, int N, int K, bool accumulate, int threads,
                bool rows_apart = false, bool c_by_columns = false, bool a_by_rows = false,
                const char* method = nullptr, int c_plane = 0) {
  const std::string name = kern ? kern->name : "default";
  CAPTURE(name);
  CAPTURE(M);
  CAPTURE(N);
  CAPTURE(K);
  CAPTURE(accumulate);
  CAPTURE(threads);
  CAPTURE(rows_apart);
  CAPTURE(c_by_columns);
  CAPTURE(a_by_rows);
  CAPTURE(c_plane);
  const int lda = M + 3;
  std::vector<float> a = random_vector(int64_t(lda) * std::max(K, 1), 1);
  std::vector<float> b = random_vector(int64_t(K) * N + 7, 2);
  std::vector<int32_t> a_row(M), a_col(std::max(K, 1)), b_row(std::max(K, 1)), b_col(N), c_row(M), c_col(N);
  for (int r = 0; r < M; r++) a_row[r] = rows_apart ? (r * 5 + 1) % M : r;  // (a permutation when 5 does not divide M)
  for (int k = 0; k < K; k++) a_col[k] = k * lda;
  if (a_by_rows) {  // (a holds lda * K >= M * K floats)
    for (int r = 0; r < M; r++) a_row[r] = r * K;
    for (int k = 0; k < K; k++) a_col[k] = k;
  }
  for (int k = 0; k < K; k++) b_row[k] = k * N;
  for (int c = 0; c < N; c++) b_col[c] = (c * 7 + 3) % N;  // 7 is coprime with every N tested
  const int ldc = 2 * N + 5, ldc_t = M + 3;
  for (int r = 0; r < M; r++) c_row[r] = c_by_columns ? r : r * ldc;
  for (int c = 0; c < N; c++) c_col[c] = c_by_columns ? c * ldc_t : 2 * c;
  int64_t c_floats = c_by_columns ? int64_t(N) * ldc_t : int64_t(M) * ldc;
  if (c_plane > 0) {
    for (int r = 0; r < M; r++) c_row[r] = r / c_plane * N * c_plane + r % c_plane;
    for (int c = 0; c < N; c++) c_col[c] = c * c_plane;
    c_floats = int64_t(M + c_plane - 1) / c_plane * N * c_plane;
  }
  std::vector<float> c = random_vector(c_floats, 3);
  std::vector<double> want(size_t(M) * N);
  for (int r = 0; r < M; r++)
    for (int j = 0; j < N; j++) {
      double s = accumulate ? c[size_t(c_row[r] + c_col[j])] : 0.0;
      for (int k = 0; k < K; k++) s += double(a[size_t(a_col[k] + a_row[r])]) * b[size_t(b_row[k] + b_col[j])];
      want[size_t(r) * N + j] = s;
    }
  const cpu::OffsetMatrix A{a.data(), a_row.data(), a_col.data()};
  const std::string chosen = cpu::gemm_method(kern ? *kern : cpu::gemm_kernel(), M, N, K, A);
  CAPTURE(chosen);
  if (method) CHECK(chosen == method);
  std::vector<float> work(cpu::gemm_workspace_floats(M, N, K, A, threads, kern));
  const std::vector<float> before = c;
  cpu::gemm(M, N, K, {a.data(), a_row.data(), a_col.data()}, {b.data(), b_row.data(), b_col.data()},
            {c.data(), c_row.data(), c_col.data()}, accumulate, work.data(), work.size(), threads, kern);
  std::vector<float> got(size_t(M) * N);
  for (int r = 0; r < M; r++)
    for (int j = 0; j < N; j++) got[size_t(r) * N + j] = c[size_t(c_row[r] + c_col[j])];
  if (K == 0 && !accumulate)
    CHECK(std::all_of(got.begin(), got.end(), [](float v) { return v == 0.0f; }));
  else
    check_close(got, want, "gemm");
  // Nothing outside C's elements was touched (the odd columns of each row, the row tails).
  int touched = 0;
  std::vector<bool> in_c(c.size(), false);
  for (int r = 0; r < M; r++)
    for (int j = 0; j < N; j++) in_c[size_t(c_row[r] + c_col[j])] = true;
  for (size_t i = 0; i < c.size(); i++) touched += !in_c[i] && c[i] != before[i];
  CHECK(touched == 0);
}

std::vector<const cpu::GemmKernel*> runnable_kernels() {
  std::vector<const cpu::GemmKernel*> v;
  for (const char* name : {"generic", "avx2", "avx512-on-avx2", "avx512"}) {
    const cpu::GemmKernel* k = cpu::find_gemm_kernel(name);
    if (k && cpu::cpu_supports(*k)) v.push_back(k);
  }
  return v;
}

struct Geometry {
  int N, C, H, W, O, KH, KW, stride, pad_h, pad_w;
};

cpu::ColGeom col_geom(const Geometry& t) {
  const int Ho = (t.H + 2 * t.pad_h - t.KH) / t.stride + 1, Wo = (t.W + 2 * t.pad_w - t.KW) / t.stride + 1;
  return {t.N, t.C, t.H, t.W, t.KH, t.KW, t.stride, t.pad_h, t.pad_w, Ho, Wo};
}

std::string describe(const Geometry& t) {
  return "N" + std::to_string(t.N) + " C" + std::to_string(t.C) + " " + std::to_string(t.H) + "x" +
         std::to_string(t.W) + " O" + std::to_string(t.O) + " k" + std::to_string(t.KH) + "x" + std::to_string(t.KW) +
         " s" + std::to_string(t.stride) + " p" + std::to_string(t.pad_h) + "," + std::to_string(t.pad_w);
}

std::vector<double> to_double(const float* p, int64_t n) { return std::vector<double>(p, p + n); }

const Geometry kGeometries[] = {
    {64, 64, 16, 16, 128, 4, 4, 2, 1, 1},  // dcgan32 D's second layer (G's third, transposed)
    {8, 128, 8, 8, 256, 4, 4, 2, 1, 1},    // 8x8 -> 4x4: phases of 4 x 4
    {4, 3, 32, 32, 64, 4, 4, 2, 1, 1},     // three channels (D's first layer, G's last)
    {2, 256, 4, 4, 1, 4, 4, 1, 0, 0},      // D's last layer: 4x4 -> 1x1
    {3, 5, 7, 7, 3, 4, 4, 2, 1, 1},        // odd sizes, the last column of a stride-2 phase missing
    {2, 4, 9, 8, 5, 3, 3, 1, 1, 1},        // 3x3 "same" (Inception)
    {2, 6, 11, 10, 7, 3, 3, 2, 0, 0},      // 3x3 stride 2, no padding
    {1, 3, 9, 8, 4, 1, 7, 1, 0, 3},        // 1x7 (Inception)
    {1, 3, 9, 8, 4, 7, 1, 1, 3, 0},        // 7x1
    {2, 8, 6, 6, 9, 1, 1, 1, 0, 0},        // 1x1
    {2, 3, 10, 9, 4, 5, 5, 3, 2, 1},       // stride 3, kernel 5: phases with 2 and 1 taps
    {2, 2, 5, 5, 3, 2, 2, 2, 1, 1},        // k2 s2 p1
    {1, 3, 3, 3, 2, 4, 4, 2, 2, 2},        // padding larger than half the kernel: taps on zeros only
    {2, 3, 2, 2, 5, 4, 4, 1, 1, 1},        // one output pixel with padding (the single product)
    {2, 3, 5, 5, 2, 4, 4, 1, 0, 0},        // 5x5 -> 2x2 under k4: phases with many zero taps
};

}  // namespace

TEST_CASE("cpu gemm matches a double-precision product for every register tile") {
  const std::vector<const cpu::GemmKernel*> kernels = runnable_kernels();
  REQUIRE(!kernels.empty());
  for (const cpu::GemmKernel* k : kernels) {
    // Edges of every tile (M, N not multiples of MR, NR), K across depth blocks of 1024 (2050 is
    // 684 + 684 + 682: an uneven last block), the one-thread path and threads sharing the rows.
    check_gemm(k, 1, 1, 1, false, 1);
    check_gemm(k, 7, 19, 5, false, 1);
    check_gemm(k, 37, 45, 300, true, 2);
    check_gemm(k, 150, 33, 520, false, 2);   // tall: split over rows
    check_gemm(k, 20, 3100, 70, true, 2);    // wide C
    check_gemm(k, 37, 64, 2050, true, 2, false, false, false, "wide");  // three depth blocks
    check_gemm(k, 37, 1024, 700, true, 2, false, false, false, "wide");  // many columns: blocks sized to the L2
    check_gemm(k, 53, 3, 2050, true, 3, false, true, false, "narrow");
    check_gemm(k, 50, 2, 2048, false, 3, false, false, true, "dot");
    check_gemm(k, 30, 40, 0, false, 1);      // K = 0: C = 0
    check_gemm(k, 30, 40, 0, true, 1);       // K = 0, accumulate: C unchanged
    // Narrow C (1 to 8 columns: computed turned round): A's rows adjacent (read in place) or
    // apart (gathered), C's rows adjacent (stored in place) or not, across depth blocks.
    for (int N : {1, 3, 6, 8})
      for (bool apart : {false, true})
        for (bool by_columns : {false, true}) check_gemm(k, 53, N, 1100, N == 3, 2, apart, by_columns);
    // 1 to 3 columns with A's rows along k: dot products (K a multiple of every vector width).
    for (int N : {1, 2, 3}) check_gemm(k, 50, N, 1024, N == 2, 2, false, false, true, "dot");
    check_gemm(k, 53, 3, 1100, false, 2, false, true, false, "narrow");  // (A's rows adjacent)
    check_gemm(k, 37, 64, 300, true, 2, false, false, false, "wide");
    // Wide C stored by columns (a tile's rows adjacent in memory: stored column by column), and
    // as NCHW planes of 12 or 16 pixels (with 8-row tiles and planes of 12, some tiles straddle
    // two planes and go element by element).
    check_gemm(k, 37, 64, 2050, true, 2, false, true, false, "wide");
    check_gemm(k, 150, 33, 520, false, 2, true, true, false, "wide");
    for (int plane : {12, 16}) {
      check_gemm(k, 100, 64, 300, false, 2, false, false, false, "wide", plane);
      check_gemm(k, 100, 70, 1100, true, 2, true, false, false, "wide", plane);  // (a partial column panel)
    }
  }
  // The default kernel is one of those (and the one the rest of the engine uses).
  CHECK(cpu::cpu_supports(cpu::gemm_kernel()));
  check_gemm(nullptr, 64, 64, 64, false, 0);
}

TEST_CASE("cpu gemm results do not depend on the thread count") {
  // Each path (wide, turned round, dot products), 1, 2 and 3 threads (other chunks each time).
  struct Shape {
    int M, N, K;
    bool a_by_rows;
  };
  for (Shape sh : {Shape{90, 200, 1100, false}, Shape{300, 3, 700, false}, Shape{300, 3, 704, true}}) {
    const int M = sh.M, N = sh.N, K = sh.K;
    CAPTURE(M);
    CAPTURE(N);
    std::vector<float> a = random_vector(int64_t(M) * K, 4), b = random_vector(int64_t(K) * N, 5);
    std::vector<int32_t> a_row(M), a_col(K), b_row(K), b_col(N), c_row(M), c_col(N);
    for (int r = 0; r < M; r++) a_row[r] = sh.a_by_rows ? r * K : r, c_row[r] = r * N;
    for (int k = 0; k < K; k++) a_col[k] = sh.a_by_rows ? k : k * M, b_row[k] = k * N;
    for (int c = 0; c < N; c++) b_col[c] = c, c_col[c] = c;
    const cpu::OffsetMatrix A{a.data(), a_row.data(), a_col.data()};
    const std::string method = cpu::gemm_method(cpu::gemm_kernel(), M, N, K, A);
    CAPTURE(method);
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
      std::vector<float> out(size_t(M) * N), work(cpu::gemm_workspace_floats(M, N, K, A, threads));
      cpu::gemm(M, N, K, A, {b.data(), b_row.data(), b_col.data()}, {out.data(), c_row.data(), c_col.data()}, false,
                work.data(), work.size(), threads);
      results.push_back(out);
    }
    CHECK(results[0] == results[1]);
    CHECK(results[0] == results[2]);
  }
}

TEST_CASE("cpu gemm refuses a workspace smaller than it needs") {
  std::vector<float> a(64, 1.0f), b(64, 1.0f), c(64);
  std::vector<int32_t> rows = {0, 8, 16, 24, 32, 40, 48, 56}, cols = {0, 1, 2, 3, 4, 5, 6, 7};
  const cpu::OffsetMatrix A{a.data(), rows.data(), cols.data()};
  std::vector<float> work(cpu::gemm_workspace_floats(8, 8, 8, A, 1));
  REQUIRE(work.size() > 1);
  CHECK_THROWS_WITH_AS(cpu::gemm(8, 8, 8, A, A, {c.data(), rows.data(), cols.data()}, false, work.data(),
                                 work.size() - 1, 1),
                       doctest::Contains("which needs"), dg::Error);
}

TEST_CASE("cpu gemm refuses a forced kernel the build or the CPU lacks") {
  CHECK(cpu::find_gemm_kernel("no-such-isa") == nullptr);
  CHECK(cpu::find_gemm_kernel("generic") != nullptr);
}

TEST_CASE("implicit-GEMM convolutions match the im2col reference") {
  // (CTest runs this case again with DG_CPU_KERNEL naming each other tile: it must be the one.)
  if (const char* forced = std::getenv("DG_CPU_KERNEL")) CHECK(std::string(cpu::gemm_kernel().name) == forced);
  MESSAGE("register tile: ", std::string(cpu::gemm_kernel().name));
  for (const Geometry& t : kGeometries) {
    CAPTURE(describe(t));
    const cpu::ColGeom g = col_geom(t);
    REQUIRE(g.Ho >= 1);
    REQUIRE(g.Wo >= 1);
    REQUIRE(cpu::conv_gemm_fits(g, t.O));
    Context ctx;
    const int64_t image_n = int64_t(t.N) * t.C * t.H * t.W, out_n = int64_t(t.N) * t.O * g.Ho * g.Wo;
    const int64_t w_n = int64_t(t.O) * t.C * t.KH * t.KW;
    std::vector<float> image = random_vector(image_n, 11), out_grad = random_vector(out_n, 12);
    std::vector<float> w = random_vector(w_n, 13), dw0 = random_vector(w_n, 14);
    std::vector<float> ref(std::max({image_n, out_n, w_n})), got(ref.size());

    cpu::conv_forward_im2col(ctx, g, t.O, image.data(), w.data(), ref.data());
    std::fill(got.begin(), got.end(), NAN);  // every element must be written
    cpu::conv_forward_gemm(ctx, g, t.O, image.data(), w.data(), got.data());
    check_close({got.begin(), got.begin() + out_n}, to_double(ref.data(), out_n), "forward");

    cpu::conv_backward_data_im2col(ctx, g, t.O, out_grad.data(), w.data(), ref.data());
    std::fill(got.begin(), got.end(), NAN);  // overwrite: every element must be written
    cpu::conv_backward_data_gemm(ctx, g, t.O, out_grad.data(), w.data(), got.data());
    check_close({got.begin(), got.begin() + image_n}, to_double(ref.data(), image_n), "backward data");

    std::copy(dw0.begin(), dw0.end(), ref.begin());
    std::copy(dw0.begin(), dw0.end(), got.begin());
    cpu::conv_backward_filter_im2col(ctx, g, t.O, image.data(), out_grad.data(), ref.data());
    cpu::conv_backward_filter_gemm(ctx, g, t.O, image.data(), out_grad.data(), got.data());
    check_close({got.begin(), got.begin() + w_n}, to_double(ref.data(), w_n), "backward filter (accumulated)");
  }
}

TEST_CASE("the phase method's cost, and the single-output-pixel product") {
  // k4 s2 p1 doubling 4x4 -> 8x8 (as the transposed conv's underlying geometry: image 8x8).
  CHECK(cpu::backward_data_phase_cost({2, 3, 8, 8, 4, 4, 2, 1, 1, 4, 4}) == doctest::Approx(1.0));
  // k4 s1 p0 on 5x5 -> 2x2: every pixel gets 4 taps per axis, the column method 4 x 2 of 5.
  CHECK(cpu::backward_data_phase_cost({2, 3, 5, 5, 4, 4, 1, 0, 0, 2, 2}) == doctest::Approx(6.25));
  // G's first layer (image 4x4, output 1x1, k4 s1 p0) and D's last: one product, no phases.
  CHECK(cpu::backward_data_is_one_pixel({2, 3, 4, 4, 4, 4, 1, 0, 0, 1, 1}));
  CHECK(cpu::backward_data_phase_cost({2, 3, 4, 4, 4, 4, 1, 0, 0, 1, 1}) == doctest::Approx(1.0));
  CHECK(!cpu::backward_data_is_one_pixel({2, 3, 5, 5, 4, 4, 1, 0, 0, 2, 2}));
}
