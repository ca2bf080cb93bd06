// Binary cross-entropy on logits on the CPU (bce_math.h per logit; the mean summed in double).
#include "engine/context.h"
#include "kernels/bce/bce_math.h"

namespace dg::cpu {

void bce_with_logits(Context&, const Tensor& logits, float target, Tensor per_sample, Tensor mean, Tensor dlogits,
                     float grad_scale) {
  const int64_t B = logits.numel();
  double sum = 0.0;
  for (int64_t b = 0; b < B; b++) {
    float loss, grad;
    bce::loss_and_grad(logits.data[b], target, &loss, &grad);
    if (per_sample.data) per_sample.data[b] = loss;
    if (dlogits.data) dlogits.data[b] = grad_scale * grad / float(B);
    sum += loss;
  }
  if (mean.data) mean.data[0] = float(sum / double(B));
}

}  // namespace dg::cpu
