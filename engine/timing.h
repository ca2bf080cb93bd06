// Measuring on the context's device, for dgbench (bench/ and tools/dgbench.cpp): times of a
// piece of work, and the device's own limits (copy bandwidth, dense math rate) that kernel
// and step times are compared with. Speed is measured here, never asserted by tests.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/context.h"

namespace dg {

struct TimingOptions {
  int warmup = 3;
  int repeats = 20;
  bool flush_l2 = true;  // GPU: overwrite a buffer twice the L2 size before each repeat
};

// Runs fn() warmup + repeats times; returns each repeat's milliseconds. GPU: CUDA events on
// the context's stream around fn() (the flush is outside them); CPU: the wall clock.
std::vector<double> time_repeats_ms(Context& ctx, const std::function<void()>& fn, const TimingOptions& opt);
double median(std::vector<double> v);

struct DeviceLimits {
  double copy_gb_s = 0;    // device-to-device copy: (read + write) bytes / s, 1e9
  double gemm_tflop_s = 0; // a large float32 GEMM (TF32 tensor cores unless strict FP32), 1e12
  std::string describe;    // the device's name and how the figures were measured
};
DeviceLimits measure_device_limits(Context& ctx);

}  // namespace dg
