#include "engine/metrics/inception_score.h"

#include <cmath>
#include <vector>

#include "engine/error.h"

namespace dg {

ScoreWithSpread inception_score(const float* probs, int64_t n, int classes, int splits) {
  DG_CHECK(classes >= 2, "Inception Score needs at least 2 classes, got ", classes);
  DG_CHECK(splits >= 1 && n >= splits, "Inception Score: ", n, " samples cannot make ", splits, " splits");
  std::vector<double> scores;
  for (int s = 0; s < splits; s++) {
    const int64_t begin = n * s / splits, end = n * (s + 1) / splits;
    std::vector<double> marginal(classes, 0.0);
    for (int64_t i = begin; i < end; i++)
      for (int c = 0; c < classes; c++) marginal[c] += probs[i * classes + c] / double(end - begin);
    double kl = 0.0;
    for (int64_t i = begin; i < end; i++)
      for (int c = 0; c < classes; c++) {
        const double p = probs[i * classes + c];
        if (p > 0) kl += p * (std::log(p) - std::log(marginal[c]));
      }
    scores.push_back(std::exp(kl / double(end - begin)));
  }
  ScoreWithSpread r;
  for (double v : scores) r.mean += v / splits;
  for (double v : scores) r.std += (v - r.mean) * (v - r.mean) / splits;
  r.std = std::sqrt(r.std);
  return r;
}

}  // namespace dg
