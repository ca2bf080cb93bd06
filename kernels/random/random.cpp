// fill_normal's entry: no arguments to check (any tensor, any offset); the CPU body is
// random_cpu.cpp, the CUDA body random_cuda.cu.
#include "kernels/random/random.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(fill_normal)

void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream, uint64_t offset) {
  DG_DISPATCH(ctx, fill_normal(ctx, t, mean, std, seed, stream, offset));
}

}  // namespace dg
