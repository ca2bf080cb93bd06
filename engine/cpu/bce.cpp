// Binary cross-entropy on logits, fused forward + gradient, on the CPU.
//
// For logit x and target t:  l = max(x, 0) - x t + log(1 + e^{-|x|})
// which equals -[t log s(x) + (1-t) log(1 - s(x))] with s the sigmoid, but never
// forms log(s(x)) (which underflows to -inf for x < -88 in float). dl/dx = s(x) - t,
// with s computed from e^{-|x|} so it never overflows.
#include <cmath>

#include "engine/dispatch.h"
#include "engine/ops.h"

namespace dg {

void bce_with_logits(Context& ctx, const Tensor& logits, float target, Tensor per_sample, Tensor mean,
                     Tensor dlogits, float grad_scale) {
  DG_DISPATCH_CUDA(ctx, bce_with_logits(ctx, logits, target, per_sample, mean, dlogits, grad_scale));
  const int64_t B = logits.numel();
  DG_CHECK(B > 0, "bce_with_logits: empty logits");
  DG_CHECK(!per_sample.data || per_sample.numel() == B, "bce_with_logits: per_sample has ",
           per_sample.numel(), " elements for ", B, " logits");
  DG_CHECK(!dlogits.data || dlogits.numel() == B, "bce_with_logits: dlogits has ", dlogits.numel(),
           " elements for ", B, " logits");
  DG_CHECK(!mean.data || mean.numel() == 1, "bce_with_logits: mean must have 1 element");
  double sum = 0.0;
  for (int64_t b = 0; b < B; b++) {
    const float x = logits.data[b];
    const float e = std::exp(-std::fabs(x));  // in (0, 1]
    const float loss = std::fmax(x, 0.0f) - x * target + std::log1p(e);
    const float sig = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    if (per_sample.data) per_sample.data[b] = loss;
    if (dlogits.data) dlogits.data[b] = grad_scale * (sig - target) / float(B);
    sum += loss;
  }
  if (mean.data) mean.data[0] = float(sum / double(B));
}

}  // namespace dg
