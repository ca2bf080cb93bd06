// Finite-difference gradient checks for the CPU ops.
//
// The loss is L = sum_i r_i * y_i for a fixed random projection r, accumulated in double,
// so dL/dy = r is the upstream gradient handed to the backward. Each checked element is
// perturbed by +-h and the central difference (L+ - L-) / 2h is compared with the
// analytic gradient.
//
// Tolerances: the ops compute in float32, so L carries a rounding error of roughly
// eps32 * sum|r_i y_i| ~ 1e-7 * |L|_1, which the difference divides by 2h. With h = 1e-2
// and |L|_1 ~ 100 that is ~5e-4 absolute; the truncation error of the central difference
// is h^2/6 * L''' ~ 1e-5 for the smooth ops. So an element passes when
//   |fd - analytic| <= atol + rtol * |analytic|,  atol = 2e-3, rtol = 1e-2,
// and the whole checked vector must also agree in norm to 1e-2 relative. A wrong formula
// (a missing term, a transposed kernel, a wrong sign) shows up as errors of order the
// gradient itself (~0.1 to 10), far outside these bounds.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "kernels/random/random.h"

namespace dg::test {

struct GradCheckOptions {
  float h = 1e-2f;
  double atol = 2e-3;
  double rtol = 1e-2;
  int max_points = 200;  // elements checked per tensor (spread evenly) to bound run time
  // Networks with ReLU/LeakyReLU have kinks; a +-h step that crosses one makes the central
  // difference an average of two slopes. Such an element shows itself by one-sided
  // differences (L+ - L0)/h and (L0 - L-)/h that disagree by more than kink_jump; it is
  // left out, and at most max_kink_fraction of the checked elements may be. A wrong
  // backward formula is wrong at smooth points too, so it still fails.
  bool allow_kinks = false;
  double kink_jump = 0.01;
  double max_kink_fraction = 0.05;
};

// Fills a host vector with N(0,1) * scale (deterministic for a given seed).
inline std::vector<float> random_vector(int64_t n, uint64_t seed, float scale = 1.0f, float shift = 0.0f) {
  Context ctx;
  Tensor t = ctx.alloc({int(n)});
  fill_normal(ctx, t, shift, scale, seed, 7);
  return std::vector<float>(t.data, t.data + n);
}

inline Tensor random_tensor(Context& ctx, Shape s, uint64_t seed, float scale = 1.0f, float shift = 0.0f) {
  Tensor t = ctx.alloc(s);
  fill_normal(ctx, t, shift, scale, seed, 11);
  return t;
}

// sum_i r_i * y_i in double.
inline double project(const Tensor& y, const Tensor& r) {
  double s = 0.0;
  for (int64_t i = 0; i < y.numel(); i++) s += double(r.data[i]) * y.data[i];
  return s;
}

// Checks `analytic` (the gradient of loss() w.r.t. the `n` floats at `x`) by central
// differences. `what` names the tensor in failure messages.
inline void check_gradient(const std::string& what, const std::function<double()>& loss, float* x,
                           const float* analytic, int64_t n, GradCheckOptions opt = {}) {
  const int64_t step = std::max<int64_t>(1, n / opt.max_points);
  double err_sq = 0.0, ref_sq = 0.0, worst = 0.0;
  int64_t worst_i = -1, bad = 0, kinks = 0, checked = 0;
  const double center = opt.allow_kinks ? loss() : 0.0;
  double worst_fd = 0.0, worst_an = 0.0;
  for (int64_t i = 0; i < n; i += step) {
    const float saved = x[i];
    x[i] = saved + opt.h;
    const double plus = loss();
    x[i] = saved - opt.h;
    const double minus = loss();
    x[i] = saved;
    checked++;
    // The step actually taken in float, not the nominal h.
    const double fd = (plus - minus) / (double(saved + opt.h) - double(saved - opt.h));
    if (opt.allow_kinks && std::fabs((plus - center) - (center - minus)) / opt.h > opt.kink_jump) {
      kinks++;
      continue;
    }
    const double an = analytic[i];
    const double err = std::fabs(fd - an);
    err_sq += err * err;
    ref_sq += an * an;
    const double excess = err - (opt.atol + opt.rtol * std::fabs(an));
    if (excess > 0) bad++;
    if (worst_i < 0 || excess > worst) {
      worst = excess;
      worst_i = i;
      worst_fd = fd;
      worst_an = an;
    }
  }
  const double rel_norm = std::sqrt(err_sq) / std::max(std::sqrt(ref_sq), 1e-12);
  INFO(what, ": worst element ", worst_i, " finite-difference ", worst_fd, " analytic ", worst_an,
       "; relative error norm ", rel_norm, "; ", kinks, " of ", checked, " elements at a kink");
  CHECK(bad == 0);
  CHECK(rel_norm < 1e-2);
  CHECK(ref_sq > 0.0);  // a gradient that is identically zero checks nothing
  CHECK(double(kinks) <= opt.max_kink_fraction * double(checked));
}

}  // namespace dg::test
