// Adam over a whole flat parameter buffer in one launch, torch.optim.Adam's arithmetic
// (engine/cpu/adam.cpp): the bias corrections come from adam_scalars (engine/op_checks.h),
// computed on the host in double exactly as the CPU does. Every float operation is spelled
// with an _rn intrinsic in the CPU's order, so nvcc cannot fuse a*b+c into an fma: with the
// CPU built without contraction the two backends then agree bit for bit.
#include <cmath>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_ops.h"
#include "engine/op_checks.h"
#include "kernels/launch.cuh"

namespace dg::cuda {

static __global__ void adam_kernel(float* p, const float* grad, float* m, float* v, int64_t n, float beta1,
                                   float beta2, float eps, float weight_decay, float step_size, float bias2_sqrt) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = __fadd_rn(grad[i], __fmul_rn(weight_decay, p[i]));                        // g + wd p
    const float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(__fsub_rn(1.0f, beta1), g));  // b1 m + (1-b1) g
    const float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(__fsub_rn(1.0f, beta2), g), g));
    m[i] = mi;
    v[i] = vi;
    // p -= step_size * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bias2_sqrt), eps);
    p[i] = __fsub_rn(p[i], __fdiv_rn(__fmul_rn(step_size, mi), denom));
  }
}

void adam_step(Context& ctx, const AdamConfig& cfg, int64_t step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq) {
  check_adam_args(params, grads, exp_avg, exp_avg_sq, step);
  const int64_t n = params.numel();
  const AdamScalars k = adam_scalars(cfg, step);
  if (n == 0) return;
  DG_LAUNCH(adam_kernel, blocks_for(n, 256), 256, 0, ctx.cuda().stream, params.data, grads.data, exp_avg.data,
            exp_avg_sq.data, n, cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay, k.step_size, k.bias2_sqrt);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
