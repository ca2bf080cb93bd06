// Adam on the CPU: adam::update (adam_math.h) over the flat buffers, threads over chunks.
#include "engine/context.h"
#include "engine/cpu/parallel.h"
#include "kernels/adam/adam_math.h"

namespace dg::cpu {

void adam_step(Context&, const adam::Scalars& k, Tensor params, const Tensor& grads, Tensor exp_avg,
               Tensor exp_avg_sq) {
  const int64_t n = params.numel();
  float* __restrict p = params.data;
  float* __restrict m = exp_avg.data;
  float* __restrict v = exp_avg_sq.data;
  const float* __restrict g = grads.data;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMinWork)
  for (int64_t i = 0; i < n; i++) adam::update(k, g[i], p[i], m[i], v[i]);
}

}  // namespace dg::cpu
