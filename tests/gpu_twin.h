// What the op rooms' GPU tests (kernels/<op>/<op>_gpu_test.cpp) and the model GPU tests
// share: a context on the GPU, and a CPU/GPU pair of contexts holding the same tensors.
//
// Tolerances (relative error in norm of each output):
//   strict FP32 (CUDNN_FMA_MATH, no TF32): 1e-5 for convolutions and batchnorm (different
//     summation orders of ~1e3-term float sums), 1e-6 for elementwise ops and losses;
//   TF32 (the default): 5e-3 for convolutions: TF32 keeps 10 mantissa bits (relative
//     rounding 2^-11 ~ 5e-4 per input), and errors of a sum of products grow about with the
//     square root of the number of terms relative to the sum;
//   linear (cuBLAS): 1e-5 strict (sums of up to 2048 products); with TF32 a bound from the
//     sizes of each output's terms (check_linear_output: the emulator's TF32 found the earlier
//     5e-3 of the result too tight where a product cancels an accumulated gradient);
//   softmax: 1e-5 for probabilities and dlogits (the CPU sums up to 1000 exponentials in one
//     float chain, off by ~sqrt(C) 2^-24 typically: 2.9e-6 at C = 1000 under the emulator);
//     cross-entropy loss: 1e-6;
//   the argmax count and the bias gradient (the CPU's summation order): exact;
//   the RNG is compared bit for bit.
#pragma once
#include <vector>

#include "engine/context.h"
#include "kernels/random/random.h"
#include "tests/golden_step.h"

namespace dg::test {

inline ContextOptions gpu(bool strict = true) {
  ContextOptions o;
  o.device = Device::cuda;
  o.strict_fp32 = strict;
  return o;
}

// A pair of contexts holding the same tensors: the CPU reference and the GPU.
struct Twin {
  Context cpu, dev;
  explicit Twin(bool strict = true) : cpu(), dev(gpu(strict)) {}
  struct Pair {
    Tensor c, g;
    Tensor on(const Context& ctx) const { return ctx.on_cuda() ? g : c; }  // this side's tensor
  };
  // f(ctx) on the CPU, then on the device: the same calls on both sides, each naming its
  // tensors with Pair::on(ctx).
  template <class F>
  void both(F f) {
    f(cpu);
    f(dev);
  }
  Pair random(Shape s, uint64_t seed, float scale = 1.0f, float shift = 0.0f) {
    Pair p{cpu.alloc(s), dev.alloc(s)};
    fill_normal(cpu, p.c, shift, scale, seed, 3);
    std::vector<float> h(p.c.data, p.c.data + p.c.numel());
    dev.upload(p.g, h.data());
    return p;
  }
  Pair zeros(Shape s) { return {cpu.zeros(s), dev.zeros(s)}; }
  Pair empty(Shape s) { return {cpu.alloc(s), dev.alloc(s)}; }
  double error(const Pair& p) {
    std::vector<float> h(size_t(p.g.numel()));
    dev.download(p.g, h.data());
    return dg::test::rel_norm_error(h, std::vector<float>(p.c.data, p.c.data + p.c.numel()));
  }
};

}  // namespace dg::test
