// dgbench kernels: the harness (bench/kernel_bench.h) and the list of the op rooms' cases.
#include "bench/bench_kernels.h"

#include <cmath>

#include "bench/kernel_bench.h"
#include "kernels/conv/conv.h"

namespace dg {

nlohmann::json KernelResult::to_json() const {
  return {{"bench", "kernel"}, {"name", name},       {"shape", shape},       {"us", us},
          {"gb_s", gb_s},      {"tflop_s", tflop_s}, {"of_limit", of_limit}, {"check_error", check_error},
          {"alternatives", alternatives}};
}

// Each room with a <op>_bench.cpp defines bench_<op>; kernels/ops.cmake lists them in
// op_benches.inc as DG_OP_BENCH(op).
#define DG_OP_BENCH(op) void bench_##op(KernelBench& run);
#include "op_benches.inc"
#undef DG_OP_BENCH

static double rel_error(Context& dev, const Tensor& a, const Tensor& b) {
  std::vector<float> h(size_t(a.numel()));
  dev.download(a, h.data());
  double diff = 0, ref = 0;
  for (size_t i = 0; i < h.size(); i++) {
    diff += (double(h[i]) - b.data[i]) * (double(h[i]) - b.data[i]);
    ref += double(b.data[i]) * b.data[i];
  }
  return std::sqrt(diff / (ref > 0 ? ref : 1));
}

void KernelBench::operator()(const std::string& name, const std::string& shape, double bytes, double flops,
                             const Make& make) {
  Context dev(copt);
  KernelResult r;
  r.name = name;
  r.shape = shape;
  Prepared d = make(dev);
  if (copt.device == Device::cuda) {
    Context cpu;
    Prepared c = make(cpu);
    d.run();
    c.run();
    r.check_error = rel_error(dev, d.out, c.out);
    const double tolerance = copt.strict_fp32 ? 1e-5 : 5e-3;
    DG_CHECK(r.check_error <= tolerance, "dgbench kernels: ", name, " ", shape, " differs from the CPU reference by ",
             r.check_error, " (relative norm; allowed ", tolerance, "): not timing a wrong kernel");
  }
  r.us = 1e3 * median(time_repeats_ms(dev, d.run, timing));
#ifdef DG_HAVE_CUDA
  if (dev.on_cuda()) r.alternatives = cuda::conv_algorithm_trials(dev);  // empty unless a convolution ran
#endif
  if (bytes > 0) {
    r.gb_s = bytes / (r.us * 1e-6) / 1e9;
    r.of_limit = limits.copy_gb_s > 0 ? r.gb_s / limits.copy_gb_s : 0;
  } else {
    r.tflop_s = flops / (r.us * 1e-6) / 1e12;
    r.of_limit = limits.gemm_tflop_s > 0 ? r.tflop_s / limits.gemm_tflop_s : 0;
  }
  report(r);
}

void bench_kernels(const ContextOptions& copt, const std::vector<int>& batches, const TimingOptions& timing,
                   const DeviceLimits& limits, const std::function<void(const KernelResult&)>& report) {
  KernelBench run{copt, batches, timing, limits, report};
#define DG_OP_BENCH(op) bench_##op(run);
#include "op_benches.inc"
#undef DG_OP_BENCH
}

}  // namespace dg
