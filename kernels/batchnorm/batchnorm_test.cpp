// BatchNorm2d: backward (dx, dgamma, dbeta) against finite differences for the smooth fused
// activations; for the kinked ones (ReLU, LeakyReLU) the fused backward is checked to equal
// the composition activation_backward -> batchnorm2d_backward(identity), both of which are
// finite-difference checked, because a finite difference across a kink is meaningless.
// Also: running statistics and eval mode against values computed here in double.
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/activation/activation.h"
#include "kernels/batchnorm/batchnorm.h"
#include "tests/gradcheck.h"

using namespace dg;
using dg::test::random_tensor;

namespace {
struct BnCase {
  int N, C, H, W;
};
const BnCase kCases[] = {{1, 3, 5, 5}, {4, 5, 3, 3}, {2, 7, 4, 1}, {8, 2, 1, 1}};
}  // namespace

TEST_CASE("batchnorm2d training backward matches finite differences") {
  const Act acts[] = {Act::identity, Act::mish, Act::tanh};
  for (const BnCase& c : kCases)
    for (Act a : acts) {
      CAPTURE(act_name(a));
      CAPTURE(c.N);
      CAPTURE(c.C);
      CAPTURE(c.H);
      Context ctx;
      BatchNormConfig cfg;
      cfg.act = {a};
      Tensor x = random_tensor(ctx, {c.N, c.C, c.H, c.W}, 31, 2.0f, 0.5f);
      Tensor gamma = random_tensor(ctx, {c.C}, 32, 0.3f, 1.0f);
      Tensor beta = random_tensor(ctx, {c.C}, 33, 0.3f);
      Tensor y = ctx.alloc(x.shape);
      Tensor r = random_tensor(ctx, x.shape, 34);
      auto loss = [&] {
        ScratchScope s(ctx);
        batchnorm2d_forward_train(ctx, cfg, x, gamma, beta, Tensor{}, Tensor{}, y);
        return dg::test::project(y, r);
      };
      BatchNormSaved saved = batchnorm2d_forward_train(ctx, cfg, x, gamma, beta, Tensor{}, Tensor{}, y);
      Tensor dx = ctx.alloc(x.shape), dgamma = ctx.zeros({c.C}), dbeta = ctx.zeros({c.C});
      batchnorm2d_backward(ctx, cfg, r, x, gamma, beta, saved, dx, dgamma, dbeta);
      dg::test::check_gradient("bn dx", loss, x.data, dx.data, x.numel());
      dg::test::check_gradient("bn dgamma", loss, gamma.data, dgamma.data, c.C);
      dg::test::check_gradient("bn dbeta", loss, beta.data, dbeta.data, c.C);
    }
}

TEST_CASE("batchnorm2d fused ReLU/LeakyReLU backward equals activation then batchnorm backward") {
  const Activation acts[] = {{Act::relu}, {Act::leaky_relu, 0.2f}};
  for (Activation act : acts) {
    CAPTURE(act_name(act.kind));
    Context ctx;
    const int N = 3, C = 4, H = 5, W = 5;
    BatchNormConfig fused, plain;
    fused.act = act;
    Tensor x = random_tensor(ctx, {N, C, H, W}, 41, 1.5f);
    Tensor gamma = random_tensor(ctx, {C}, 42, 0.3f, 1.0f), beta = random_tensor(ctx, {C}, 43, 0.3f);
    Tensor dy = random_tensor(ctx, x.shape, 44);
    // Fused.
    Tensor y = ctx.alloc(x.shape);
    BatchNormSaved s1 = batchnorm2d_forward_train(ctx, fused, x, gamma, beta, Tensor{}, Tensor{}, y);
    Tensor dx1 = ctx.alloc(x.shape), dg1 = ctx.zeros({C}), db1 = ctx.zeros({C});
    batchnorm2d_backward(ctx, fused, dy, x, gamma, beta, s1, dx1, dg1, db1);
    // Composition.
    Tensor z = ctx.alloc(x.shape), y2 = ctx.alloc(x.shape), dz = ctx.alloc(x.shape);
    BatchNormSaved s2 = batchnorm2d_forward_train(ctx, plain, x, gamma, beta, Tensor{}, Tensor{}, z);
    activation_forward(ctx, act, z, y2);
    activation_backward(ctx, act, z, dy, dz);
    Tensor dx2 = ctx.alloc(x.shape), dg2 = ctx.zeros({C}), db2 = ctx.zeros({C});
    batchnorm2d_backward(ctx, plain, dz, x, gamma, beta, s2, dx2, dg2, db2);
    for (int64_t i = 0; i < x.numel(); i++) {
      CHECK(y.data[i] == doctest::Approx(y2.data[i]).epsilon(1e-5));
      CHECK(dx1.data[i] == doctest::Approx(dx2.data[i]).epsilon(1e-4).scale(1e-3));
    }
    for (int c = 0; c < C; c++) {
      CHECK(dg1.data[c] == doctest::Approx(dg2.data[c]).epsilon(1e-5));
      CHECK(db1.data[c] == doctest::Approx(db2.data[c]).epsilon(1e-5));
    }
  }
}

TEST_CASE("batchnorm2d running statistics and eval mode") {
  Context ctx;
  const int N = 4, C = 3, H = 2, W = 3, M = N * H * W;
  BatchNormConfig cfg;  // momentum 0.1, eps 1e-5
  Tensor x = random_tensor(ctx, {N, C, H, W}, 51, 3.0f, 2.0f);
  Tensor gamma = random_tensor(ctx, {C}, 52, 0.3f, 1.0f), beta = random_tensor(ctx, {C}, 53);
  Tensor rm = ctx.zeros({C}), rv = ctx.alloc({C});
  ctx.fill(rv, 1.0f);
  Tensor y = ctx.alloc(x.shape);
  batchnorm2d_forward_train(ctx, cfg, x, gamma, beta, rm, rv, y);
  for (int c = 0; c < C; c++) {
    double sum = 0, sq = 0;
    for (int n = 0; n < N; n++)
      for (int i = 0; i < H * W; i++) sum += x.data[(n * C + c) * H * W + i];
    double mean = sum / M;
    for (int n = 0; n < N; n++)
      for (int i = 0; i < H * W; i++) sq += std::pow(x.data[(n * C + c) * H * W + i] - mean, 2);
    // PyTorch: running_var uses the unbiased variance (divide by M - 1).
    CHECK(rm.data[c] == doctest::Approx(0.1 * mean).epsilon(1e-5));
    CHECK(rv.data[c] == doctest::Approx(0.9 + 0.1 * sq / (M - 1)).epsilon(1e-5));
    // Training output: zero mean, unit (biased) variance before gamma/beta.
    double ysum = 0;
    for (int n = 0; n < N; n++)
      for (int i = 0; i < H * W; i++) ysum += y.data[(n * C + c) * H * W + i];
    CHECK(ysum / M == doctest::Approx(beta.data[c]).epsilon(1e-4));
  }
  // Eval: y = gamma (x - rm) / sqrt(rv + eps) + beta, elementwise with the running stats.
  Tensor ye = ctx.alloc(x.shape);
  batchnorm2d_forward_eval(ctx, cfg, x, gamma, beta, rm, rv, ye);
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int i = 0; i < H * W; i++) {
        int64_t k = (n * C + c) * H * W + i;
        double v = gamma.data[c] * (x.data[k] - rm.data[c]) / std::sqrt(rv.data[c] + 1e-5) + beta.data[c];
        CHECK(ye.data[k] == doctest::Approx(v).epsilon(1e-5));
      }
}
