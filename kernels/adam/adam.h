// Adam, PyTorch semantics (torch.optim.Adam, non-fused, non-amsgrad; L2 weight decay added to
// the gradient), over flat buffers: one call steps a whole network.
#pragma once
#include <cstdint>

#include "kernels/op.h"

namespace dg {

struct AdamConfig {
  float lr = 2e-4f;
  float beta1 = 0.5f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};
// One step over flat buffers of equal size; `step` counts from 1 (bias correction).
void adam_step(Context& ctx, const AdamConfig& cfg, int64_t step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq);

}  // namespace dg
