// Fréchet distance between two feature sets (DESIGN §7), in float64:
//   FID = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))
// The trace of the square root is taken from a symmetric eigendecomposition: with
// R = S_a^(1/2) (symmetric, from S_a's eigendecomposition, negative eigenvalues clamped
// to 0), A = R S_b R is symmetric positive semi-definite and has the same eigenvalues as
// S_a S_b, so tr((S_a S_b)^(1/2)) = sum_i sqrt(max(eig_i(A), 0)). Never eigenvalues of
// S_a S_b itself, which is not symmetric.
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <string>

namespace dg {

struct FeatureStats {
  int64_t count = 0;
  Eigen::VectorXd mean;   // (d)
  Eigen::MatrixXd cov;    // (d, d), unbiased (divides by count - 1, as numpy.cov)
  std::string network;    // the feature network, so statistics of two are never mixed
};

// Accumulates features batch by batch (sums and outer products in float64).
class FeatureAccumulator {
 public:
  FeatureAccumulator(int dim, std::string network);
  void add(const float* features, int64_t n);  // (n, dim), row-major
  FeatureStats finish() const;                  // needs at least 2 samples
  int64_t count() const { return count_; }

 private:
  int dim_;
  std::string network_;
  int64_t count_ = 0;
  Eigen::VectorXd sum_;
  Eigen::MatrixXd sum_outer_;
};

// Throws a dg::Error when the dimensions or feature networks differ.
double frechet_distance(const FeatureStats& a, const FeatureStats& b);

}  // namespace dg
