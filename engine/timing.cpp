// Measuring on the CPU; the GPU twin is engine/cuda/timing.cu (engine/timing.h).
#include "engine/timing.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <omp.h>

#include "engine/cpu/gemm.h"
#include "engine/dispatch.h"
#ifdef DG_HAVE_CUDA
#include "engine/cuda/cuda_timing.h"
#endif

namespace dg {

double median(std::vector<double> v) {
  DG_CHECK(!v.empty(), "median of no values");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> time_repeats_ms(Context& ctx, const std::function<void()>& fn, const TimingOptions& opt) {
  DG_DISPATCH_CUDA(ctx, time_repeats_ms(ctx, fn, opt));
  DG_CHECK(opt.repeats >= 1 && opt.warmup >= 0, "time_repeats_ms: repeats ", opt.repeats, ", warmup ", opt.warmup);
  for (int i = 0; i < opt.warmup; i++) fn();
  std::vector<double> ms;
  for (int i = 0; i < opt.repeats; i++) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return ms;
}

DeviceLimits measure_device_limits(Context& ctx) {
  DG_DISPATCH_CUDA(ctx, measure_device_limits(ctx));
  DeviceLimits lim;
  const size_t n = size_t(64) << 20;  // 256 MB of floats each way
  std::vector<float> a(n, 1.0f), b(n);
  const double copy_ms = median(time_repeats_ms(ctx, [&] { std::memcpy(b.data(), a.data(), n * 4); }, {1, 5, false}));
  lim.copy_gb_s = 2.0 * n * 4 / (copy_ms * 1e-3) / 1e9;
  // dg's own GEMM (engine/cpu/gemm.h), dense 1024^3, on OpenMP's threads; and the peak of the
  // multiply-adds alone on the same vectors.
  const int m = 1024, threads = omp_get_max_threads();
  std::vector<float> x(size_t(m) * m, 0.5f), y(size_t(m) * m, 0.25f), z(size_t(m) * m);
  std::vector<int32_t> rows(m), cols(m);
  for (int i = 0; i < m; i++) rows[i] = i * m, cols[i] = i;
  std::vector<float> work(cpu::gemm_workspace_floats(m, m, m, {x.data(), rows.data(), cols.data()}, threads));
  const double gemm_ms = median(time_repeats_ms(ctx, [&] {
    cpu::gemm(m, m, m, {x.data(), rows.data(), cols.data()}, {y.data(), rows.data(), cols.data()},
              {z.data(), rows.data(), cols.data()}, false, work.data(), work.size(), threads);
  }, {1, 5, false}));
  lim.gemm_tflop_s = 2.0 * m * m * m / (gemm_ms * 1e-3) / 1e12;
  const cpu::GemmKernel& kern = cpu::gemm_kernel();
  const double peak = cpu::fma_peak_gflop_s(kern, threads);
  char text[160];
  std::snprintf(text, sizeof text, "CPU (%d threads, %s GEMM tile %dx%d; multiply-add peak %.0f GFLOP/s): memcpy of "
                "256 MB, dg float32 GEMM 1024^3", threads, kern.name, kern.mr, kern.nr, peak);
  lim.describe = text;
  return lim;
}

}  // namespace dg
