// Random fills on the device with the Philox RNG of kernels/random/philox.h, shared with the
// CPU body (random_cpu.cpp): element i of a fill is normal number offset + i of
// (seed, stream), computed independently, so any grid gives the same numbers.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/launch.cuh"
#include "kernels/random/philox.h"
#include "kernels/random/random.h"

namespace dg::cuda {

// t[i] = mean + std * normal(seed, stream, offset + i), the product and the sum rounded
// separately (fp::mul/fp::add). The CPU twin gives the same bits only where its compiler
// does not fuse that product and sum into one fma (GCC contracts in C++ unless
// -ffp-contract=off).
static __global__ void fill_normal_kernel(float* t, int64_t n, float mean, float std, uint64_t seed, uint64_t stream,
                                          RngOffset at) {
  const uint64_t offset = at.value();
  DG_GRID_STRIDE(i, n) t[i] = fp::add(mean, fp::mul(std, rng::normal_at(seed, stream, offset + uint64_t(i))));
}

void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream, RngOffset offset) {
  kernels::check_on_device(t, "fill_normal");
  if (t.numel() == 0) return;
  DG_LAUNCH(fill_normal_kernel, blocks_for(t.numel(), 256), 256, 0, ctx.cuda().stream, t.data, t.numel(), mean, std,
            seed, stream, offset);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
