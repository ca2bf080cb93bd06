// fill_normal's entry: any tensor, any offset (a given step index must not be negative); the CPU body is
// random_cpu.cpp, the CUDA body random_cuda.cu.
#include "kernels/random/random.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(fill_normal)

void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream, RngOffset offset) {
  DG_CHECK(offset.step.done != nullptr || offset.step.index >= 0, "fill_normal: the step index counts from 0, got ",
           offset.step.index);
  DG_DISPATCH(ctx, fill_normal(ctx, t, mean, std, seed, stream, offset));
}

}  // namespace dg
