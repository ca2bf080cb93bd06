// Random numbers: Philox4x32-10 normals (kernels/random/philox.h), bit-identical on the CPU
// and CUDA, addressable by offset so a resumed run can continue any stream.
#pragma once
#include <cstdint>

#include "kernels/op.h"
#include "kernels/step_index.h"

namespace dg {

// Where a fill starts in its stream: base + step * per_step, with the step read as the fill runs
// when it is counted on the device (kernels/step_index.h: the training noise of a replayed CUDA
// graph). A plain offset converts to one.
struct RngOffset {
  uint64_t base = 0;
  StepIndex step;
  uint64_t per_step = 0;
  RngOffset(uint64_t b = 0) : base(b) {}  // NOLINT: implicit, a plain offset
  RngOffset(uint64_t b, StepIndex s, uint64_t per) : base(b), step(s), per_step(per) {}
  DG_HD uint64_t value() const { return base + uint64_t(step.value()) * per_step; }
};

// t[i] = mean + std * normal(seed, stream, offset + i); bit-identical on CPU and CUDA.
void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream,
                 RngOffset offset = {});

}  // namespace dg
