// Binary cross-entropy on logits on the device: one block (B is a batch of logits, and one
// block gives a fixed reduction order), bce_math.h per logit as on the CPU.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/bce/bce.h"
#include "kernels/bce/bce_math.h"
#include "kernels/block_sum.cuh"
#include "kernels/launch.cuh"

namespace dg::cuda {

static __global__ void bce_kernel(const float* logits, int B, float target, float* per_sample, float* mean,
                                  float* dlogits, float grad_scale) {
  __shared__ double shared[32];
  double sum = 0.0;
  for (int b = threadIdx.x; b < B; b += blockDim.x) {
    float loss, grad;
    bce::loss_and_grad(logits[b], target, &loss, &grad);
    if (per_sample) per_sample[b] = loss;
    if (dlogits) dlogits[b] = fp::div(fp::mul(grad_scale, grad), float(B));
    sum += loss;
  }
  sum = kernels::block_sum(sum, shared);
  if (threadIdx.x == 0 && mean) mean[0] = float(sum / double(B));
}

void bce_with_logits(Context& ctx, const Tensor& logits, float target, Tensor per_sample, Tensor mean,
                     Tensor dlogits, float grad_scale) {
  DG_LAUNCH(bce_kernel, 1, 256, 0, ctx.cuda().stream, logits.data, int(logits.numel()), target, per_sample.data,
            mean.data, dlogits.data, grad_scale);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
