// Random numbers: Philox4x32-10 normals (kernels/random/philox.h), bit-identical on the CPU
// and CUDA, addressable by offset so a resumed run can continue any stream.
#pragma once
#include <cstdint>

#include "kernels/op.h"

namespace dg {

// t[i] = mean + std * normal(seed, stream, offset + i); bit-identical on CPU and CUDA.
void fill_normal(Context& ctx, Tensor t, float mean, float std, uint64_t seed, uint64_t stream,
                 uint64_t offset = 0);

}  // namespace dg
