// fill_normal on the CPU: element i is normal number offset + i of (seed, stream), then
// mean + std * z with fp::add/mul, rounded as the CUDA kernel rounds them.
#include "engine/context.h"
#include "engine/cpu/parallel.h"
#include "kernels/random/philox.h"
#include "kernels/random/random.h"

namespace dg::cpu {

void fill_normal(Context&, Tensor t, float mean, float std, uint64_t seed, uint64_t stream, RngOffset at) {
  const int64_t n = t.numel();
  const uint64_t offset = at.value();
#pragma omp parallel for schedule(static) if (n >= kParallelMinWork)
  for (int64_t i = 0; i < n; i++) t.data[i] = fp::add(mean, fp::mul(std, rng::normal_at(seed, stream, offset + uint64_t(i))));
}

}  // namespace dg::cpu
