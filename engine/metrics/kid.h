// Kernel Inception Distance (DESIGN §7): the unbiased estimate of the squared MMD between
// two feature sets under the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged
// over `subsets` random subsets of `subset_size` samples of each set:
//   MMD^2 = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (m(m-1))
//           - 2 sum_{i,j} k(x_i, y_j) / m^2
#pragma once
#include <cstdint>

#include "engine/metrics/inception_score.h"

namespace dg {

// a (na, dim), b (nb, dim); subset_size is capped at min(na, nb). Subsets are drawn
// without replacement from the Philox stream of `seed`.
ScoreWithSpread kernel_inception_distance(const float* a, int64_t na, const float* b, int64_t nb, int dim,
                                          int subsets = 100, int subset_size = 1000, uint64_t seed = 0);

}  // namespace dg
