// The elementwise helpers on the CPU (arguments checked by elementwise.cpp).
#include <algorithm>
#include <cmath>

#include "engine/context.h"
#include "kernels/step_index.h"

namespace dg::cpu {

void axpy(Context&, float alpha, const Tensor& x, Tensor y) {
  for (int64_t i = 0; i < x.numel(); i++) y.data[i] += alpha * x.data[i];
}

void scale(Context&, Tensor x, float alpha) {
  for (int64_t i = 0; i < x.numel(); i++) x.data[i] *= alpha;
}

void copy(Context&, const Tensor& src, Tensor dst) { std::copy(src.data, src.data + src.numel(), dst.data); }

void record_nonfinite(Context&, const Tensor& values, StepIndex step, Tensor first_bad) {
  if (first_bad.data[0] != 0.0f) return;
  for (int64_t i = 0; i < values.numel(); i++)
    if (!std::isfinite(values.data[i])) {
      first_bad.data[0] = float(step.value() + 1);  // exact for steps below 2^24
      return;
    }
}

void count_step(Context&, int64_t* count) { ++*count; }

}  // namespace dg::cpu
