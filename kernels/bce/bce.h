// Binary cross-entropy on logits, fused forward + gradient, numerically stable (bce_math.h).
#pragma once
#include "kernels/op.h"

namespace dg {

// l_b = max(x_b, 0) - x_b * t + log(1 + exp(-|x_b|)).
// logits (B) -> per_sample (B) [optional], mean (1) [optional] = sum_b l_b / B,
//              dlogits (B) [optional, overwrite] = grad_scale * (sigmoid(x_b) - t) / B
void bce_with_logits(Context& ctx, const Tensor& logits, float target, Tensor per_sample, Tensor mean,
                     Tensor dlogits, float grad_scale = 1.0f);

}  // namespace dg
