// Inception Score from class probabilities p(y|x) (DESIGN §7): over each of `splits` equal
// parts, IS = exp(mean_x KL(p(y|x) || p(y))) with p(y) that part's mean prediction; the
// result is the mean and standard deviation over the parts (as the original code does).
#pragma once
#include <cstdint>

namespace dg {

struct ScoreWithSpread {
  double mean = 0, std = 0;
};

// probs (n, classes), rows summing to 1.
ScoreWithSpread inception_score(const float* probs, int64_t n, int classes, int splits = 10);

}  // namespace dg
