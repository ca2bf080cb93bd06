// Row-major Eigen views of raw float buffers: the CPU backend's GEMMs.
#pragma once
#include <Eigen/Core>

namespace dg::cpu {
using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapRM = Eigen::Map<MatrixRM>;
using ConstMapRM = Eigen::Map<const MatrixRM>;
}  // namespace dg::cpu
