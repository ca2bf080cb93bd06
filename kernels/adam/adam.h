// Adam, PyTorch semantics (torch.optim.Adam, non-fused, non-amsgrad; L2 weight decay added to
// the gradient), over flat buffers: one call steps a whole network.
#pragma once
#include <cstdint>

#include "kernels/op.h"
#include "kernels/step_index.h"

namespace dg {

struct AdamConfig {
  float lr = 2e-4f;
  float beta1 = 0.5f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
  // > 0: the learning rate of 0-based step i is lr * (1 - i / decay_steps) (--lr-decay linear).
  int64_t decay_steps = 0;
};

// The learning rate of 0-based step `index` (what adam_step uses; logs show it).
float learning_rate(const AdamConfig& cfg, int64_t index);

// One step over flat buffers of equal size: step.value() is the 0-based step (Adam's t is one
// more: bias correction), read as the kernel runs when the step is counted on the device.
void adam_step(Context& ctx, const AdamConfig& cfg, StepIndex step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq);

}  // namespace dg
