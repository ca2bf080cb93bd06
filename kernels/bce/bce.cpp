// bce_with_logits' entry: sizes checked once, then the CPU body (bce_cpu.cpp) or the
// one-block CUDA kernel (bce_cuda.cu).
#include "kernels/bce/bce.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(bce_with_logits)

void bce_with_logits(Context& ctx, const Tensor& logits, float target, Tensor per_sample, Tensor mean,
                     Tensor dlogits, float grad_scale) {
  const int64_t B = logits.numel();
  DG_CHECK(B > 0 && B < (int64_t(1) << 31), "bce_with_logits: bad logit count ", B);
  DG_CHECK(!per_sample.data || per_sample.numel() == B, "bce_with_logits: per_sample has ", per_sample.numel(),
           " elements for ", B, " logits");
  DG_CHECK(!dlogits.data || dlogits.numel() == B, "bce_with_logits: dlogits has ", dlogits.numel(), " elements for ",
           B, " logits");
  DG_CHECK(!mean.data || mean.numel() == 1, "bce_with_logits: mean must have 1 element");
  DG_DISPATCH(ctx, bce_with_logits(ctx, logits, target, per_sample, mean, dlogits, grad_scale));
}

}  // namespace dg
