#include "engine/metrics/fid.h"

#include <cmath>

#include "engine/error.h"

namespace dg {

FeatureAccumulator::FeatureAccumulator(int dim, std::string network)
    : dim_(dim), network_(std::move(network)), sum_(Eigen::VectorXd::Zero(dim)),
      sum_outer_(Eigen::MatrixXd::Zero(dim, dim)) {
  DG_CHECK(dim >= 1, "feature dimension ", dim, " must be positive");
}

void FeatureAccumulator::add(const float* features, int64_t n) {
  using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd x = Eigen::Map<const RowMajorF>(features, n, dim_).cast<double>();
  sum_ += x.colwise().sum().transpose();
  sum_outer_.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
  count_ += n;
}

FeatureStats FeatureAccumulator::finish() const {
  DG_CHECK(count_ >= 2, "a covariance needs at least 2 samples, got ", count_, " (", network_, " features)");
  FeatureStats s;
  s.count = count_;
  s.network = network_;
  s.mean = sum_ / double(count_);
  const Eigen::MatrixXd outer = sum_outer_.selfadjointView<Eigen::Lower>();
  s.cov = (outer - double(count_) * s.mean * s.mean.transpose()) / double(count_ - 1);
  return s;
}

// Square root of a symmetric positive semi-definite matrix (eigenvalues clamped at 0).
static Eigen::MatrixXd sqrt_psd(const Eigen::MatrixXd& m) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(m);
  DG_CHECK(eig.info() == Eigen::Success, "FID: eigendecomposition of a covariance failed");
  const Eigen::VectorXd root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return eig.eigenvectors() * root.asDiagonal() * eig.eigenvectors().transpose();
}

double frechet_distance(const FeatureStats& a, const FeatureStats& b) {
  DG_CHECK(a.network == b.network, "FID between features of different networks: '", a.network, "' and '", b.network,
           "'");
  DG_CHECK(a.mean.size() == b.mean.size(), "FID between features of different sizes: ", a.mean.size(), " and ",
           b.mean.size());
  DG_CHECK(a.count >= 2 && b.count >= 2, "FID needs statistics of at least 2 samples each (got ", a.count, " and ",
           b.count, ")");
  const Eigen::MatrixXd r = sqrt_psd(a.cov);
  Eigen::MatrixXd inner = r * b.cov * r;
  inner = 0.5 * (inner + inner.transpose());  // symmetric up to rounding: make it exactly so
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(inner, Eigen::EigenvaluesOnly);
  DG_CHECK(eig.info() == Eigen::Success, "FID: eigendecomposition failed");
  const double tr_sqrt = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  const double fid = (a.mean - b.mean).squaredNorm() + a.cov.trace() + b.cov.trace() - 2.0 * tr_sqrt;
  return fid;
}

}  // namespace dg
