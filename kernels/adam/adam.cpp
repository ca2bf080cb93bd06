// adam_step's entry: buffer sizes and the step checked, then the CPU body (adam_cpu.cpp) or the
// one-launch CUDA kernel (adam_cuda.cu); both compute the step's scalars with adam_math.h.
#include "kernels/adam/adam.h"

#include "engine/dispatch.h"
#include "kernels/adam/adam_math.h"

namespace dg {
DG_OP_BODIES(adam_step)

float learning_rate(const AdamConfig& cfg, int64_t index) { return adam::lr_at(cfg, index); }

void adam_step(Context& ctx, const AdamConfig& cfg, StepIndex step, Tensor params, const Tensor& grads,
               Tensor exp_avg, Tensor exp_avg_sq) {
  const int64_t n = params.numel();
  DG_CHECK(grads.numel() == n && exp_avg.numel() == n && exp_avg_sq.numel() == n,
           "adam_step: buffers differ in size: params ", n, ", grads ", grads.numel(), ", exp_avg ",
           exp_avg.numel(), ", exp_avg_sq ", exp_avg_sq.numel());
  DG_CHECK(step.done != nullptr || step.index >= 0, "adam_step: the step index counts from 0, got ", step.index);
  DG_CHECK(cfg.decay_steps >= 0, "adam_step: decay_steps must not be negative, got ", cfg.decay_steps);
  DG_DISPATCH(ctx, adam_step(ctx, cfg, step, params, grads, exp_avg, exp_avg_sq));
}

}  // namespace dg
