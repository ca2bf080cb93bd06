// Adam over a whole flat parameter buffer in one launch: adam::update (adam_math.h, the same
// rounding as the CPU body) per element. Each thread computes the step's scalars itself from
// the step it reads (a few dozen double operations), so nothing per step is a host argument
// when the step is counted on the device.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/adam/adam_math.h"
#include "kernels/launch.cuh"

namespace dg::cuda {

static __global__ void adam_kernel(AdamConfig cfg, StepIndex step, float* p, const float* grad, float* m, float* v,
                                   int64_t n) {
  const adam::Scalars k = adam::scalars(cfg, step.value());
  DG_GRID_STRIDE(i, n) adam::update(k, grad[i], p[i], m[i], v[i]);
}

void adam_step(Context& ctx, const AdamConfig& cfg, StepIndex step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq) {
  const int64_t n = params.numel();
  if (n == 0) return;
  DG_LAUNCH(adam_kernel, blocks_for(n, 256), 256, 0, ctx.cuda().stream, cfg, step, params.data, grads.data,
            exp_avg.data, exp_avg_sq.data, n);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
