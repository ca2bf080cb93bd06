// Kernels on the host: the block being run, its CUDA threads (lanes, each a fiber) and what
// each waits at, shared by blocks.cpp (the block scheduler), fibers.cpp (the fibers' stacks
// and switches) and warps.cpp (warp exchanges).
#pragma once
#include <atomic>
#include <boost/context/fiber.hpp>
#include <cstdint>
#include <functional>
#include <source_location>
#include <string>
#include <vector>

#include "emu.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define DGEMU_ASAN 1
#endif

namespace dgemu {

namespace ctx = boost::context;

enum class State { fresh, runnable, at_barrier, at_warp, exited };

struct Lane {
  ctx::fiber fiber;  // the suspended CUDA thread
  ctx::fiber back;   // the scheduler, while the thread runs
  State state = State::fresh;
  uint3 tid{};
  void* stack = nullptr;
  void* fake_stack = nullptr;  // ASan's, while suspended
  std::source_location site;   // the call it waits at
  int predicate = 0;           // __syncthreads_count
  WarpOp op = WarpOp::sync;
  unsigned mask = 0;
  uint64_t bits = 0, result = 0;
  int bytes = 4, arg = 0, width = 32;
};

// The block being run on this OS thread.
struct BlockRun {
  const KernelSite* site = nullptr;
  const std::function<void()>* body = nullptr;
  std::vector<Lane> lanes;
  int current = -1;
  int threads = 0;
  char* dynamic = nullptr;
  size_t dynamic_bytes = 0;
  const void* scheduler_bottom = nullptr;  // ASan: the scheduler's stack
  size_t scheduler_size = 0;
  void* scheduler_fake = nullptr;
};
extern thread_local BlockRun* tl_block;

// Progress for the watchdog: bumped at every switch (blocks.cpp).
extern std::atomic<uint64_t> g_switches;

std::string where(const std::source_location& s);
std::string lane_name(const BlockRun& b, int i);

// ---- fibers (fibers.cpp) ----
void switch_to_lane(BlockRun& b, int i);
void suspend_lane();
void start_lane(BlockRun& b, int i);

// ---- warp exchanges (warps.cpp) ----
bool resolve_warp(BlockRun& b, int w);

}  // namespace dgemu
