// Softmax cross-entropy: values against the definition in double, the gradient against finite
// differences (tests/gradcheck.h), the argmax count with ties, stability for large logits, and
// bad labels.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/softmax/softmax.h"
#include "tests/gradcheck.h"

using namespace dg;
using dg::test::check_gradient;
using dg::test::project;
using dg::test::random_tensor;

static double ce_reference(const float* x, int C, int label) {
  double m = x[0];
  for (int c = 1; c < C; c++) m = std::max(m, double(x[c]));
  double s = 0;
  for (int c = 0; c < C; c++) s += std::exp(double(x[c]) - m);
  return std::log(s) + m - x[label];
}

TEST_CASE("softmax and softmax cross-entropy: values, gradient, argmax count") {
  Context ctx;
  const int N = 9, C = 7;
  Tensor logits = random_tensor(ctx, {N, C}, 21, 2.0f);
  std::vector<float> lab = {0, 6, 3, 3, 1, 5, 2, 4, 0};
  Tensor labels = ctx.alloc({N});
  ctx.upload(labels, lab.data());
  Tensor probs = ctx.alloc({N, C}), loss = ctx.alloc({1}), dlog = ctx.alloc({N, C}), correct = ctx.alloc({1});
  softmax_forward(ctx, logits, probs);
  softmax_cross_entropy(ctx, logits, labels, loss, dlog, correct);
  double sum = 0;
  int hits = 0;
  for (int n = 0; n < N; n++) {
    const float* x = logits.data + n * C;
    double row = 0;
    int argmax = 0;
    for (int c = 0; c < C; c++) {
      row += probs.data[n * C + c];
      if (x[c] > x[argmax]) argmax = c;
    }
    CHECK(row == doctest::Approx(1.0).epsilon(1e-6));
    const double ce = ce_reference(x, C, int(lab[n]));
    CHECK(-std::log(double(probs.data[n * C + int(lab[n])])) == doctest::Approx(ce).epsilon(1e-5));
    sum += ce;
    hits += argmax == int(lab[n]);
  }
  CHECK(loss.data[0] == doctest::Approx(sum / N).epsilon(1e-6));
  CHECK(correct.data[0] == float(hits));
  auto f = [&] {
    softmax_cross_entropy(ctx, logits, labels, loss, Tensor{}, Tensor{});
    return double(loss.data[0]);
  };
  dg::test::GradCheckOptions opt;
  opt.atol = 2e-4;  // the mean loss is O(1): rounding ~1e-7 / h
  check_gradient("softmax_cross_entropy dlogits", f, logits.data, dlog.data, dlog.numel(), opt);
}

TEST_CASE("softmax cross-entropy: ties go to the lowest index, large logits stay finite") {
  Context ctx;
  // Row 0: a tie between classes 1 and 2 (label 1: correct). Row 1: the same tie, label 2
  // (wrong). Row 2: logits of +-1000 (a naive exp overflows). Row 3: all equal, label 0.
  std::vector<float> x = {0, 5, 5, 1, 0, 5, 5, 1, 1000, -1000, 0, 999, 3, 3, 3, 3};
  std::vector<float> lab = {1, 2, 3, 0};
  Tensor logits = ctx.alloc({4, 4}), labels = ctx.alloc({4});
  ctx.upload(logits, x.data());
  ctx.upload(labels, lab.data());
  Tensor loss = ctx.alloc({1}), dlog = ctx.alloc({4, 4}), correct = ctx.alloc({1}), probs = ctx.alloc({4, 4});
  softmax_cross_entropy(ctx, logits, labels, loss, dlog, correct);
  softmax_forward(ctx, logits, probs);
  CHECK(correct.data[0] == 2.0f);  // rows 0 and 3
  double ref = 0;
  for (int n = 0; n < 4; n++) ref += ce_reference(x.data() + 4 * n, 4, int(lab[n]));
  CHECK(std::isfinite(loss.data[0]));
  CHECK(loss.data[0] == doctest::Approx(ref / 4).epsilon(1e-6));
  for (int i = 0; i < 16; i++) {
    CHECK(std::isfinite(dlog.data[i]));
    CHECK(std::isfinite(probs.data[i]));
  }
  CHECK(probs.data[8] == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))));
  CHECK(probs.data[12] == 0.25f);
}

TEST_CASE("softmax cross-entropy: a label that is not a class id 0..C-1 is an error naming it") {
  Context ctx;
  Tensor logits = random_tensor(ctx, {3, 4}, 31), labels = ctx.alloc({3}), loss = ctx.alloc({1});
  for (float bad : {4.0f, -1.0f, 1.5f, NAN}) {
    CAPTURE(bad);
    std::vector<float> lab = {0, bad, 2};
    ctx.upload(labels, lab.data());
    try {
      softmax_cross_entropy(ctx, logits, labels, loss, Tensor{}, Tensor{});
      FAIL("no error for label ", bad);
    } catch (const Error& e) {
      const std::string m = e.what();
      CHECK(m.find("at index 1") != std::string::npos);
      CHECK(m.find("[0, 4)") != std::string::npos);
    }
  }
  Tensor few = ctx.alloc({2});
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(ctx, logits, few, loss, Tensor{}, Tensor{}),
                       doctest::Contains("2 labels for 3 rows"), Error);
}
