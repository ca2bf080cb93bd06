// What every op room (kernels/<op>/) shares: the tensor and context types, and the gradient
// convention, the same for every op (stated once, here):
//   - gradients w.r.t. activations (dx) are OVERWRITTEN: each activation has one consumer.
//   - gradients w.r.t. parameters (dw, dgamma, dbeta) are ACCUMULATED (+=): a network's
//     parameters can receive gradient from several backward passes (real + fake batches
//     of a discriminator) before one optimizer step, and the caller zeroes them.
//   - a null output tensor (data == nullptr) means "not wanted": the G step needs D's
//     input gradient but not D's parameter gradients, so it passes an empty dw.
// All tensors are float32 NCHW on the context's device; shapes are checked by each op's entry
// (kernels/<op>/<op>.cpp) before its CPU or CUDA body runs (engine/dispatch.h).
#pragma once
#include "engine/context.h"
#include "engine/tensor.h"
