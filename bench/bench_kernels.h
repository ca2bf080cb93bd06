// dgbench kernels: every custom kernel and every (transposed) convolution of dcgan32 and
// dcgan64 at the shapes training uses, on one device. Each case is first run on the device
// and on the CPU reference from the same inputs (Philox fills are bit-identical on both) and
// compared; then timed: median of repeats with the L2 cache flushed between them, reported
// as achieved GB/s (memory-bound kernels: the bytes a minimal implementation must move) or
// TFLOP/s (convolutions: 2 x multiply-adds), and as a fraction of the device's measured copy
// bandwidth or GEMM rate (engine/timing.h). Alternatives side by side: for each convolution
// on the GPU, every algorithm cuDNN's search ran, with cuDNN's timing of it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/context.h"
#include "engine/timing.h"

namespace dg {

struct KernelResult {
  std::string name, shape;
  double us = 0;                 // median microseconds
  double gb_s = 0, tflop_s = 0;  // one of the two, by what bounds the kernel
  double of_limit = 0;           // fraction of the copy bandwidth or the GEMM rate
  double check_error = -1;       // relative norm error against the CPU; -1 on the CPU itself
  // GPU convolutions: every algorithm cuDNN tried for this shape, with its own timing.
  std::vector<std::string> alternatives;
  nlohmann::json to_json() const;
};

// Calls `report` as each result is ready.
void bench_kernels(const ContextOptions& copt, const std::vector<int>& batches, const TimingOptions& timing,
                   const DeviceLimits& limits, const std::function<void(const KernelResult&)>& report);

}  // namespace dg
