// Binary cross-entropy on one logit and its gradient, one definition for the CPU, the CUDA
// kernels and the generator loss (kernels/generator_loss). For logit x and target t:
//   l = max(x, 0) - x t + log(1 + e^{-|x|}),   dl/dx = sigmoid(x) - t
// which equals -[t log s(x) + (1-t) log(1 - s(x))] with s the sigmoid, but never forms
// log(s(x)) (-inf for x < -88 in float), and takes the sigmoid from e = e^{-|x|} in (0, 1]
// so nothing overflows. Rounded step by step in this order on both backends.
#pragma once
#include <cmath>

#include "kernels/float_ops.h"

namespace dg::bce {

DG_HD void loss_and_grad(float x, float t, float* loss, float* grad) {
  using namespace fp;
  const float e = expf(-fabsf(x));
  *loss = add(sub(fmaxf(x, 0.0f), mul(x, t)), log1pf(e));
  const float sig = x >= 0.0f ? div(1.0f, add(1.0f, e)) : div(e, add(1.0f, e));
  *grad = sub(sig, t);
}

}  // namespace dg::bce
