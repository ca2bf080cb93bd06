// The standalone activations on the CPU: one loop per activation kind (act::with_kind).
#include "engine/cpu/parallel.h"
#include "kernels/activation/activation_math.h"

namespace dg::cpu {

void activation_forward(Context&, Activation act, const Tensor& x, Tensor y) {
  const int64_t n = x.numel();
  act::with_kind(act, [&](auto a) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinWork)
    for (int64_t i = 0; i < n; i++) y.data[i] = act::forward(a, x.data[i]);
  });
}

void activation_backward(Context&, Activation act, const Tensor& x, const Tensor& dy, Tensor dx) {
  const int64_t n = x.numel();
  act::with_kind(act, [&](auto a) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinWork)
    for (int64_t i = 0; i < n; i++) dx.data[i] = dy.data[i] * act::derivative(a, x.data[i]);
  });
}

void activation_backward_at_output(Context&, Activation act, const Tensor& y, const Tensor& dy, Tensor dx) {
  const int64_t n = y.numel();
  act::with_kind(act, [&](auto a) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinWork)
    for (int64_t i = 0; i < n; i++) dx.data[i] = dy.data[i] * act::derivative_at_output(a, y.data[i]);
  });
}

}  // namespace dg::cpu
