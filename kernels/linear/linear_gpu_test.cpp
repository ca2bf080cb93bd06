// The cuBLAS linear layer against the CPU reference.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/linear/linear.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

namespace {

struct LinearCase {
  int N, I, O;
};
const LinearCase kLinearCases[] = {{1, 1, 1}, {3, 17, 5}, {7, 75, 13}, {33, 130, 10}, {128, 2048, 128}};

// |t| elementwise, on the CPU.
Tensor abs_of(Context& cpu, const Tensor& t) {
  Tensor a = cpu.alloc(t.shape);
  for (int64_t i = 0; i < t.numel(); i++) a.data[i] = std::fabs(t.data[i]);
  return a;
}

// Strict FP32: the relative error in norm must be below `tol`. TF32 (strict = false): each
// product of two TF32 inputs (10 mantissa bits, rounded or truncated) is off by at most 2^-9
// of its size, so an output may be off by 2^-9 of the sum of its terms' sizes, which can be
// far more than 2^-9 of the output itself when terms cancel (a 1 x 1 product added to a
// gradient of the opposite sign). `scale` holds those sums (the same op on |inputs|); the
// error in norm must stay below 2.5e-3 of its norm (2^-9 plus the FP32 sums' rounding).
void check_linear_output(Twin& t, const Twin::Pair& p, const Tensor& scale, bool strict, double tol) {
  if (strict) {
    CHECK(t.error(p) < tol);
    return;
  }
  std::vector<float> g(size_t(p.g.numel()));
  t.dev.download(p.g, g.data());
  double err = 0, norm = 0;
  for (int64_t i = 0; i < p.c.numel(); i++) {
    err += std::pow(double(g[size_t(i)]) - p.c.data[i], 2);
    norm += std::pow(double(scale.data[i]), 2);
  }
  CHECK(std::sqrt(err) <= 2.5e-3 * std::sqrt(norm));
}

void check_linear(bool strict, double tol) {
  for (const LinearCase& c : kLinearCases) {
    CAPTURE(c.N);
    CAPTURE(c.I);
    CAPTURE(c.O);
    Twin t(strict);
    // x of rank 4 when I factors as 1 x I x 1: the flattening path on the device too.
    auto x = t.random({c.N, 1, c.I, 1}, 31), w = t.random({c.O, c.I}, 32, 0.3f), b = t.random({c.O}, 33);
    auto y = t.empty({c.N, c.O}), dy = t.random({c.N, c.O}, 34), dx = t.random(x.c.shape, 35);
    auto dw = t.random(w.c.shape, 36), db = t.random(b.c.shape, 37);  // non-zero: they must accumulate
    // The scales of the TF32 bounds: the same ops on |inputs| (|dw0| + |x|^T |dy| for dw).
    Tensor xa = abs_of(t.cpu, x.c), wa = abs_of(t.cpu, w.c), ba = abs_of(t.cpu, b.c), dya = abs_of(t.cpu, dy.c);
    Tensor ya = t.cpu.alloc(y.c.shape), dxa = t.cpu.alloc(x.c.shape), dwa = abs_of(t.cpu, dw.c), dba = abs_of(t.cpu, db.c);
    linear_forward(t.cpu, xa, wa, ba, ya);
    linear_backward(t.cpu, xa, wa, dya, dxa, dwa, dba);
    t.both([&](Context& ctx) {
      linear_forward(ctx, x.on(ctx), w.on(ctx), b.on(ctx), y.on(ctx));
      linear_backward(ctx, x.on(ctx), w.on(ctx), dy.on(ctx), dx.on(ctx), dw.on(ctx), db.on(ctx));
    });
    check_linear_output(t, y, ya, strict, tol);
    check_linear_output(t, dx, dxa, strict, tol);
    check_linear_output(t, dw, dwa, strict, tol);
    CHECK(t.error(db) == 0.0);
    // Without bias, and with only dw wanted.
    linear_forward(t.cpu, x.c, w.c, Tensor{}, y.c);
    linear_forward(t.dev, x.g, w.g, Tensor{}, y.g);
    linear_forward(t.cpu, xa, wa, Tensor{}, ya);
    check_linear_output(t, y, ya, strict, tol);
    Tensor dwa2 = abs_of(t.cpu, dw.c);
    linear_backward(t.cpu, xa, wa, dya, Tensor{}, dwa2, Tensor{});
    linear_backward(t.cpu, x.c, w.c, dy.c, Tensor{}, dw.c, Tensor{});
    linear_backward(t.dev, x.g, w.g, dy.g, Tensor{}, dw.g, Tensor{});
    check_linear_output(t, dw, dwa2, strict, tol);
  }
}

}  // namespace

TEST_CASE("cuda linear (cuBLAS) matches the CPU in strict FP32") { check_linear(true, 1e-5); }

TEST_CASE("cuda linear (cuBLAS) matches the CPU with TF32") { check_linear(false, 0); }

