// Adam over a whole flat parameter buffer in one launch: adam::update (adam_math.h, the same
// rounding as the CPU body) per element, the per-step scalars computed by the entry.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/adam/adam_math.h"
#include "kernels/launch.cuh"

namespace dg::cuda {

static __global__ void adam_kernel(adam::Scalars k, float* p, const float* grad, float* m, float* v, int64_t n) {
  DG_GRID_STRIDE(i, n) adam::update(k, grad[i], p[i], m[i], v[i]);
}

void adam_step(Context& ctx, const adam::Scalars& k, Tensor params, const Tensor& grads, Tensor exp_avg,
               Tensor exp_avg_sq) {
  const int64_t n = params.numel();
  if (n == 0) return;
  DG_LAUNCH(adam_kernel, blocks_for(n, 256), 256, 0, ctx.cuda().stream, k, params.data, grads.data, exp_avg.data,
            exp_avg_sq.data, n);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
