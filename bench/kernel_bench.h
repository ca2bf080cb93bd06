// The harness the op rooms' dgbench cases (kernels/<op>/<op>_bench.cpp) run in: a case
// builds its inputs on a context and returns the work to time and the tensor whose values are
// compared with the CPU reference's; KernelBench checks, times and reports it
// (bench/bench_kernels.cpp). Inputs: normal numbers from a per-tensor Philox stream, identical
// on every device.
#pragma once
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "bench/bench_kernels.h"
#include "engine/context.h"
#include "engine/timing.h"
#include "kernels/random/random.h"
#include "models/dcgan.h"

namespace dg {

struct Prepared {
  std::function<void()> run;
  Tensor out;
};
using Make = std::function<Prepared(Context&)>;

struct KernelBench {
  const ContextOptions& copt;
  const std::vector<int>& batches;  // --batch: the batch sizes of the cases that have one
  const TimingOptions& timing;
  const DeviceLimits& limits;
  const std::function<void(const KernelResult&)>& report;

  bool on_cuda() const { return copt.device == Device::cuda; }
  // Runs one case: bytes > 0 for a memory-bound kernel, flops > 0 for a compute-bound one.
  void operator()(const std::string& name, const std::string& shape, double bytes, double flops, const Make& make);
  // f(net, B) for the generator and the discriminator of dcgan32 and dcgan64 (3 channels), at
  // each --batch: the networks whose layers the convolution and batchnorm cases time.
  void for_each_dcgan(const std::function<void(const Network& net, int B)>& f) const {
    for (int B : batches)
      for (int size : {32, 64}) {
        ModelConfig m;
        m.image_size = size;
        m.channels = 3;
        f(build_generator(m), B);
        f(build_discriminator(m, 0), B);
      }
  }
};

inline Tensor random_input(Context& ctx, Shape s, uint64_t stream, float stddev = 1.0f) {
  Tensor t = ctx.alloc(s);
  fill_normal(ctx, t, 0.0f, stddev, 2026, stream);
  return t;
}

inline std::string dims(std::initializer_list<int> d) {
  std::string s;
  for (int v : d) s += (s.empty() ? "" : "x") + std::to_string(v);
  return s;
}

}  // namespace dg
