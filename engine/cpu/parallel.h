// When the CPU backend's loops use several threads (OpenMP). Below kParallelMinWork elements
// a loop runs on one thread: waking the others costs more than the loop, and when the
// machine is busy (a 2-core CI box running two tests) every parallel region waits for its
// slowest thread's next time slice, which made tiny-model tests ~10x slower. Results do not
// depend on it: every parallel loop here gives each element or channel to one thread.
#pragma once
#include <cstdint>

namespace dg::cpu {
constexpr int64_t kParallelMinWork = int64_t(1) << 16;
}  // namespace dg::cpu
