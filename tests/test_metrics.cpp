// FID, IS and KID: exact cases, closed forms, symmetry, golden values from numpy/scipy
// (tests/data/make_metrics_golden.py), and bad inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/error.h"
#include "engine/metrics/fid.h"
#include "engine/metrics/inception_score.h"
#include "engine/metrics/kid.h"
#include "kernels/random/random.h"

using namespace dg;

namespace {

// n x d features: `rows` of N(0, 1) scaled per dimension and shifted (deterministic).
std::vector<float> gaussian_features(int64_t n, int d, const std::vector<double>& mean, const std::vector<double>& sd,
                                     uint64_t seed) {
  Context ctx;
  Tensor t = ctx.alloc({int(n * d)});
  fill_normal(ctx, t, 0.0f, 1.0f, seed, 5);
  std::vector<float> f(size_t(n) * d);
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < d; j++) f[size_t(i * d + j)] = float(mean[j] + sd[j] * t.data[i * d + j]);
  return f;
}

FeatureStats stats_of(const std::vector<float>& f, int d, const std::string& net = "test") {
  FeatureAccumulator acc(d, net);
  const int64_t n = int64_t(f.size()) / d;
  acc.add(f.data(), n / 2);  // in two batches: accumulation must not depend on batching
  acc.add(f.data() + (n / 2) * d, n - n / 2);
  return acc.finish();
}

// The formula sets of make_metrics_golden.py.
void golden_sets(int n, int d, std::vector<float>& a, std::vector<float>& b) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++) {
      a.push_back(float(std::sin(0.37 * i + 1.3 * j) + 0.3 * std::sin(0.11 * i * (j + 1)) + 0.1 * j));
      b.push_back(float(std::cos(0.23 * i - 0.7 * j) * (1 + 0.05 * j) + 0.25 * std::cos(0.07 * i * (j + 2)) + 0.2));
    }
}

nlohmann::json golden() {
  std::ifstream f(std::string(DG_TEST_DATA_DIR) + "/metrics_golden.json");
  REQUIRE(f.good());
  return nlohmann::json::parse(f);
}

}  // namespace

TEST_CASE("FID of a set with itself is 0") {
  const int d = 16;
  std::vector<float> f = gaussian_features(500, d, std::vector<double>(d, 0.3), std::vector<double>(d, 1.5), 1);
  FeatureStats s = stats_of(f, d);
  CHECK(std::fabs(frechet_distance(s, s)) < 1e-6);
}

TEST_CASE("FID of Gaussians matches the closed form") {
  // Diagonal covariances: FID = |mu_a - mu_b|^2 + sum_i (s_a + s_b - 2 sqrt(s_a s_b)).
  const int d = 4;
  FeatureStats a, b;
  a.count = b.count = 100;
  a.network = b.network = "closed-form";
  a.mean = Eigen::Vector4d(0, 1, 2, 3);
  b.mean = Eigen::Vector4d(1, 1, 0, 3);
  const Eigen::Vector4d va(1, 4, 0.25, 2), vb(9, 1, 0.25, 0.5);
  a.cov = va.asDiagonal();
  b.cov = vb.asDiagonal();
  double expect = (a.mean - b.mean).squaredNorm();
  for (int i = 0; i < d; i++) expect += va[i] + vb[i] - 2 * std::sqrt(va[i] * vb[i]);
  CHECK(frechet_distance(a, b) == doctest::Approx(expect).epsilon(1e-12));
  // A full (rotated) covariance: the value must not depend on the basis.
  Eigen::Matrix4d q = Eigen::Matrix4d(Eigen::HouseholderQR<Eigen::Matrix4d>(Eigen::Matrix4d::Random()).householderQ());
  FeatureStats ra = a, rb = b;
  ra.mean = q * a.mean;
  rb.mean = q * b.mean;
  ra.cov = q * a.cov * q.transpose();
  rb.cov = q * b.cov * q.transpose();
  CHECK(frechet_distance(ra, rb) == doctest::Approx(expect).epsilon(1e-9));
}

TEST_CASE("FID is symmetric and matches numpy/scipy on fixed data") {
  const nlohmann::json g = golden();
  const int n = g["n"], d = g["d"];
  std::vector<float> a, b;
  golden_sets(n, d, a, b);
  FeatureStats sa = stats_of(a, d), sb = stats_of(b, d);
  const double ab = frechet_distance(sa, sb), ba = frechet_distance(sb, sa);
  INFO("FID(a, b) = ", ab, ", FID(b, a) = ", ba, ", scipy ", double(g["fid_ab"]));
  CHECK(ab == doctest::Approx(ba).epsilon(1e-12));
  // Measured gap to scipy: 9e-16 relative. 1e-10 leaves room for numpy's and glibc's sin
  // rounding a feature to a different float32, nothing more.
  CHECK(ab == doctest::Approx(double(g["fid_ab"])).epsilon(1e-10));
  // Sample statistics of a sample from N(mu, diag(s^2)) approach the closed form.
  std::vector<float> x = gaussian_features(20000, 2, {0, 0}, {1, 1}, 3), y = gaussian_features(20000, 2, {1, 0}, {2, 1}, 4);
  CHECK(frechet_distance(stats_of(x, 2), stats_of(y, 2)) == doctest::Approx(1.0 + 1.0).epsilon(0.05));
}

TEST_CASE("FID refuses mixed networks, sizes and too few samples") {
  std::vector<float> f = gaussian_features(10, 3, {0, 0, 0}, {1, 1, 1}, 5);
  FeatureStats a = stats_of(f, 3, "inception-v3-pool3"), b = stats_of(f, 3, "classifier-fashion-mnist");
  CHECK_THROWS_WITH_AS(frechet_distance(a, b), doctest::Contains("different networks"), dg::Error);
  std::vector<float> g = gaussian_features(10, 2, {0, 0}, {1, 1}, 6);
  FeatureStats c = stats_of(g, 2, "inception-v3-pool3");
  CHECK_THROWS_WITH_AS(frechet_distance(a, c), doctest::Contains("different sizes: 3 and 2"), dg::Error);
  FeatureAccumulator one(3, "x");
  one.add(f.data(), 1);
  CHECK_THROWS_WITH_AS(one.finish(), doctest::Contains("at least 2 samples, got 1"), dg::Error);
}

TEST_CASE("Inception Score: identical predictions give 1, uniformly spread one-hot ones the class count") {
  const int n = 1000, classes = 10;
  std::vector<float> same(size_t(n) * classes);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < classes; c++) same[size_t(i * classes + c)] = c == 3 ? 0.7f : 0.3f / 9;
  ScoreWithSpread s = inception_score(same.data(), n, classes);
  CHECK(s.mean == doctest::Approx(1.0).epsilon(1e-9));
  std::vector<float> onehot(size_t(n) * classes, 0.0f);
  for (int i = 0; i < n; i++) onehot[size_t(i * classes + i % classes)] = 1.0f;
  s = inception_score(onehot.data(), n, classes);
  CHECK(s.mean == doctest::Approx(double(classes)).epsilon(1e-9));
  CHECK(s.std < 1e-9);
  CHECK_THROWS_WITH_AS(inception_score(onehot.data(), 5, classes), doctest::Contains("cannot make 10 splits"), dg::Error);
}

TEST_CASE("KID: 0 in expectation for one distribution, numpy's value on fixed data") {
  const nlohmann::json g = golden();
  const int n = g["n"], d = g["d"];
  std::vector<float> a, b;
  golden_sets(n, d, a, b);
  // One subset of all n samples: the whole sets, so no randomness is left.
  ScoreWithSpread k = kernel_inception_distance(a.data(), n, b.data(), n, d, 1, n);
  CHECK(k.mean == doctest::Approx(double(g["kid_ab"])).epsilon(1e-9));
  // Two samples of one distribution: the unbiased estimate averages to ~0 (its spread over
  // subsets bounds the test).
  std::vector<float> x = gaussian_features(2000, 4, {0, 0, 0, 0}, {1, 1, 1, 1}, 7),
                     y = gaussian_features(2000, 4, {0, 0, 0, 0}, {1, 1, 1, 1}, 8);
  ScoreWithSpread same = kernel_inception_distance(x.data(), 2000, y.data(), 2000, 4, 20, 500, 1);
  CHECK(std::fabs(same.mean) < 3 * same.std / std::sqrt(20.0) + 1e-3);
  std::vector<float> z = gaussian_features(2000, 4, {1, 0, 0, 0}, {1, 1, 1, 1}, 9);
  ScoreWithSpread differ = kernel_inception_distance(x.data(), 2000, z.data(), 2000, 4, 20, 500, 1);
  CHECK(differ.mean > 10 * std::fabs(same.mean));
  CHECK_THROWS_WITH_AS(kernel_inception_distance(x.data(), 1, y.data(), 1, 4), doctest::Contains("at least 2"),
                       dg::Error);
}
