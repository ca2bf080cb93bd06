// The CUDA twins of engine/timing.h's measuring functions (engine/cuda/timing.cu), reached
// through DG_DISPATCH_CUDA from engine/timing.cpp. Plain C++: no CUDA types.
#pragma once
#include <functional>
#include <vector>

#include "engine/timing.h"

namespace dg::cuda {

std::vector<double> time_repeats_ms(Context& ctx, const std::function<void()>& fn, const TimingOptions& opt);
DeviceLimits measure_device_limits(Context& ctx);

}  // namespace dg::cuda
