// The softmax kernels against the CPU reference.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/softmax/softmax.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

TEST_CASE("cuda softmax and softmax cross-entropy match the CPU, ties included") {
  struct Case {
    int N, C;
  };
  for (Case c : {Case{1, 2}, Case{5, 7}, Case{37, 10}, Case{300, 33}, Case{64, 1000}}) {
    CAPTURE(c.N);
    CAPTURE(c.C);
    Twin t;
    auto logits = t.random({c.N, c.C}, 41, 3.0f);
    // Rounded to halves, so rows often hold tied maxima: the argmax count must agree exactly.
    for (int64_t i = 0; i < logits.c.numel(); i++) logits.c.data[i] = std::round(logits.c.data[i] * 2) / 2;
    t.dev.upload(logits.g, logits.c.data);
    auto labels = t.empty({c.N});
    for (int n = 0; n < c.N; n++) labels.c.data[n] = float((n * 7 + 3) % c.C);
    t.dev.upload(labels.g, labels.c.data);
    auto probs = t.empty({c.N, c.C}), loss = t.empty({1}), d = t.random({c.N, c.C}, 42), correct = t.empty({1});
    t.both([&](Context& ctx) {
      softmax_forward(ctx, logits.on(ctx), probs.on(ctx));
      softmax_cross_entropy(ctx, logits.on(ctx), labels.on(ctx), loss.on(ctx), d.on(ctx), correct.on(ctx));
    });
    CHECK(t.error(probs) < 1e-5);
    CHECK(t.error(loss) < 1e-6);
    CHECK(t.error(d) < 1e-5);
    CHECK(t.error(correct) == 0.0);
    // Only the count wanted.
    auto correct2 = t.empty({1});
    softmax_cross_entropy(t.dev, logits.g, labels.g, Tensor{}, Tensor{}, correct2.g);
    softmax_cross_entropy(t.cpu, logits.c, labels.c, Tensor{}, Tensor{}, correct2.c);
    CHECK(t.error(correct2) == 0.0);
  }
}

TEST_CASE("cuda softmax cross-entropy: a bad label makes the loss and its row NaN, never counted correct") {
  Context dev(gpu());
  const float x[] = {5, 0, 0, 5, 0, 0};  // two rows, both argmax 0
  const float lab[] = {0, 3};            // row 1: label 3 of 3 classes
  Tensor logits = dev.alloc({2, 3}), labels = dev.alloc({2}), loss = dev.alloc({1}), d = dev.alloc({2, 3}),
         correct = dev.alloc({1});
  dev.upload(logits, x);
  dev.upload(labels, lab);
  softmax_cross_entropy(dev, logits, labels, loss, d, correct);
  float h_loss, h_correct, h_d[6];
  dev.download(loss, &h_loss);
  dev.download(correct, &h_correct);
  dev.download(d, h_d);
  CHECK(std::isnan(h_loss));
  CHECK(h_correct == 1.0f);
  for (int c = 0; c < 3; c++) {
    CHECK(std::isfinite(h_d[c]));
    CHECK(std::isnan(h_d[3 + c]));
  }
}

