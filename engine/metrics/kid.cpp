#include "engine/metrics/kid.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "engine/error.h"
#include "kernels/random/philox.h"

namespace dg {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The first m entries of a permutation of 0..n-1 drawn with Philox (partial Fisher-Yates).
static std::vector<int64_t> draw_subset(int64_t n, int64_t m, uint64_t seed, uint64_t stream) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  for (int64_t i = 0; i < m; i++) {
    rng::U32x4 r = rng::philox4x32_10({{uint32_t(i), uint32_t(uint64_t(i) >> 32), uint32_t(stream), 0u}},
                                      uint32_t(seed), uint32_t(seed >> 32));
    const uint64_t bits = (uint64_t(r.v[0]) << 32) | r.v[1];
    std::swap(idx[size_t(i)], idx[size_t(i + int64_t(bits % uint64_t(n - i)))]);
  }
  idx.resize(size_t(m));
  return idx;
}

static Eigen::MatrixXd gather(const float* x, int dim, const std::vector<int64_t>& rows) {
  Eigen::MatrixXd out(rows.size(), dim);
  for (size_t r = 0; r < rows.size(); r++)
    out.row(Eigen::Index(r)) = Eigen::Map<const RowMajorF>(x + rows[r] * dim, 1, dim).cast<double>();
  return out;
}

ScoreWithSpread kernel_inception_distance(const float* a, int64_t na, const float* b, int64_t nb, int dim,
                                          int subsets, int subset_size, uint64_t seed) {
  const int64_t m = std::min<int64_t>({subset_size, na, nb});
  DG_CHECK(m >= 2, "KID needs at least 2 samples in each set (got ", na, " and ", nb, ")");
  DG_CHECK(subsets >= 1, "KID needs at least one subset, got ", subsets);
  std::vector<double> values;
  auto kernel = [dim](const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
    return ((x * y.transpose()).array() / double(dim) + 1.0).cube().matrix();
  };
  for (int s = 0; s < subsets; s++) {
    const Eigen::MatrixXd x = gather(a, dim, draw_subset(na, m, seed, 2 * uint64_t(s)));
    const Eigen::MatrixXd y = gather(b, dim, draw_subset(nb, m, seed, 2 * uint64_t(s) + 1));
    const Eigen::MatrixXd kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y);
    const double md = double(m);
    values.push_back((kxx.sum() - kxx.trace()) / (md * (md - 1)) + (kyy.sum() - kyy.trace()) / (md * (md - 1)) -
                     2.0 * kxy.sum() / (md * md));
  }
  ScoreWithSpread r;
  for (double v : values) r.mean += v / double(values.size());
  for (double v : values) r.std += (v - r.mean) * (v - r.mean) / double(values.size());
  r.std = std::sqrt(r.std);
  return r;
}

}  // namespace dg
