// Adam on the CPU: the step's scalars (adam_math.h), then adam::update over the flat buffers,
// threads over chunks.
#include "engine/context.h"
#include "engine/cpu/parallel.h"
#include "kernels/adam/adam_math.h"

namespace dg::cpu {

void adam_step(Context&, const AdamConfig& cfg, StepIndex step, Tensor params, const Tensor& grads, Tensor exp_avg,
               Tensor exp_avg_sq) {
  const adam::Scalars k = adam::scalars(cfg, step.value());
  const int64_t n = params.numel();
  float* __restrict p = params.data;
  float* __restrict m = exp_avg.data;
  float* __restrict v = exp_avg_sq.data;
  const float* __restrict g = grads.data;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMinWork)
  for (int64_t i = 0; i < n; i++) adam::update(k, g[i], p[i], m[i], v[i]);
}

}  // namespace dg::cpu
