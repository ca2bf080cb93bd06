// Kernels on the host: each CUDA thread of a block is a fiber (boost::context), the blocks of
// a grid run one after the other, and within a block the warps take turns, each running until
// all its threads reach __syncthreads or their end (a thread runs until it reaches a barrier, a
// warp exchange or its end). Blocks, warps and threads take their turns in the order
// DGEMU_ORDER gives (forward, reverse or seeded random), so code that is right only in one
// order (a missing __syncthreads) gives wrong results in another.
//
// Before each block the __shared__ variables (one linker section, tests/emu/include/dgemu/
// device.h) and the dynamic shared memory are filled with 0xff bytes (NaN), so a read of
// shared memory no thread of this block wrote shows.
//
// The checks (each aborts naming the kernel, its launch and the source lines; CUDA C++
// Programming Guide, "Synchronization Functions"; those of warp exchanges: warps.cpp):
//  - __syncthreads must be reached by every thread of the block that has not exited, at the
//    same call: threads at different __syncthreads calls, or some threads at one while others
//    have exited, is a divergent barrier;
//  - a CUDA thread that runs DGEMU_WATCHDOG_S seconds without reaching a barrier (a spin loop
//    waiting for another thread) is reported as a deadlock.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "blocks.h"

uint3 threadIdx, blockIdx, blockDim, gridDim;

extern "C" char __start_dgemu_shared[] __attribute__((weak));
extern "C" char __stop_dgemu_shared[] __attribute__((weak));

namespace dgemu {

thread_local BlockRun* tl_block = nullptr;

// Progress for the watchdog: bumped at every switch.
std::atomic<uint64_t> g_switches{0};

namespace {

std::atomic<bool> g_in_kernel{false};
std::atomic<const KernelSite*> g_site{nullptr};  // the running kernel, for the watchdog's report

std::string dims(uint3 v) { return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")"; }

// The addressable bytes of the __shared__ section (ASan puts redzones between variables).
struct SharedRuns {
  std::vector<std::pair<char*, size_t>> runs;
  size_t bytes = 0;
  SharedRuns() {
    char* p = __start_dgemu_shared;
    char* end = __stop_dgemu_shared;
    if (!p || !end) return;
#ifdef DGEMU_ASAN
    while (p < end) {
      while (p < end && __asan_address_is_poisoned(p)) p++;
      char* q = p;
      while (q < end && !__asan_address_is_poisoned(q)) q++;
      if (q > p) runs.push_back({p, size_t(q - p)});
      bytes += size_t(q - p);
      p = q;
    }
#else
    runs.push_back({p, size_t(end - p)});
    bytes = size_t(end - p);
#endif
  }
};
const SharedRuns& shared_runs() {
  static const SharedRuns r;
  return r;
}

void poison_shared(BlockRun& b) {
  for (const auto& [p, n] : shared_runs().runs) std::memset(p, 0xff, n);
  if (b.dynamic_bytes) std::memset(b.dynamic, 0xff, b.dynamic_bytes);
}

}  // namespace

std::string where(const std::source_location& s) {
  const char* f = s.file_name();
  const char* slash = std::strrchr(f, '/');
  return std::string(slash ? slash + 1 : f) + ":" + std::to_string(s.line());
}

std::string lane_name(const BlockRun& b, int i) {
  return "thread " + dims(b.lanes[size_t(i)].tid) + " (lane " + std::to_string(i % 32) + " of warp " +
         std::to_string(i / 32) + ")";
}

namespace {

// Everyone left waits at __syncthreads: checks it is one barrier for all, then releases it.
void resolve_barrier(BlockRun& b) {
  int waiting = -1, exited = 0, count = 0;
  for (int i = 0; i < b.threads; i++) {
    const Lane& l = b.lanes[size_t(i)];
    if (l.state == State::exited) {
      exited++;
      continue;
    }
    if (l.state != State::at_barrier) fatal("internal: a thread neither waits nor ran");
    if (waiting < 0) waiting = i;
    const Lane& w = b.lanes[size_t(waiting)];
    if (l.site.line() != w.site.line() || std::strcmp(l.site.file_name(), w.site.file_name()))
      fatal("divergent barrier: " + lane_name(b, waiting) + " waits at __syncthreads at " + where(w.site) + " while " +
            lane_name(b, i) + " waits at " + where(l.site));
    count += l.predicate != 0;
  }
  const Lane& w = b.lanes[size_t(waiting)];
  if (exited)
    fatal("divergent barrier: " + std::to_string(b.threads - exited) + " threads wait at __syncthreads at " +
          where(w.site) + " while " + std::to_string(exited) + " threads of the block have exited");
  for (Lane& l : b.lanes) {
    l.predicate = count;
    l.state = State::runnable;
  }
}

// Warps take turns, each running until all its threads wait at __syncthreads or have exited
// (its warp exchanges completing as soon as their lanes arrive), as warps run on a GPU: one can
// be a whole phase ahead of another, so shared memory one warp still reads and another already
// rewrites shows up. `order` (a permutation of the block's threads) orders the warps by their
// first thread in it and the lanes within each warp.
void run_block(BlockRun& b, const std::vector<std::vector<int>>& warps) {
  for (Lane& l : b.lanes) l.state = State::fresh;
  poison_shared(b);
  int live = b.threads;
  while (live > 0) {
    for (const std::vector<int>& lanes : warps)
      for (;;) {
        for (int i : lanes) {
          Lane& l = b.lanes[size_t(i)];
          if (l.state == State::fresh) start_lane(b, i);
          else if (l.state == State::runnable) switch_to_lane(b, i);
          else continue;
          if (l.state == State::exited) live--;
        }
        if (!resolve_warp(b, lanes.front() / 32)) break;
      }
    if (live > 0) resolve_barrier(b);
  }
}

// The block's threads grouped by warp, in the order `order` gives.
std::vector<std::vector<int>> warps_in_order(const std::vector<int>& order) {
  std::vector<std::vector<int>> warps;
  std::vector<int> slot;  // warp -> its index in `warps`
  for (int i : order) {
    const size_t w = size_t(i / 32);
    if (slot.size() <= w) slot.resize(w + 1, -1);
    if (slot[w] < 0) {
      slot[w] = int(warps.size());
      warps.emplace_back();
    }
    warps[size_t(slot[w])].push_back(i);
  }
  return warps;
}

void watchdog() {
  uint64_t seen = 0;
  auto since = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const uint64_t now = g_switches.load();
    if (!g_in_kernel || now != seen) {
      seen = now;
      since = std::chrono::steady_clock::now();
      continue;
    }
    if (std::chrono::steady_clock::now() - since > std::chrono::duration<double>(config().watchdog_s)) {
      const KernelSite* k = g_site.load();
      fatal("deadlock: a CUDA thread of kernel " + std::string(k ? k->kernel : "?") + " (launched at " +
            (k ? std::string(k->file) + ":" + std::to_string(k->line) : std::string("?")) + ") ran " +
            std::to_string(config().watchdog_s) +
            " s without reaching a barrier or its end (a loop waiting for another thread?)");
    }
  }
}

}  // namespace

// ---- calls made by device code (tests/emu/include/dgemu/device.h) ----

void sync_block(std::source_location site) { sync_block_count(0, site); }

int sync_block_count(int predicate, std::source_location site) {
  if (!tl_block || tl_block->current < 0) fatal("__syncthreads called outside a kernel at " + where(site));
  Lane& l = tl_block->lanes[size_t(tl_block->current)];
  l.state = State::at_barrier;
  l.site = site;
  l.predicate = predicate;
  suspend_lane();
  return l.predicate;
}

void* dynamic_shared() {
  if (!tl_block) fatal("dynamic shared memory used outside a kernel");
  return tl_block->dynamic;
}

std::string running_kernel() {
  const BlockRun* b = tl_block;
  if (!b || !b->site) return running_operation().empty() ? "" : "operation " + running_operation();
  std::string s = "kernel " + std::string(b->site->kernel) + " launched at " + b->site->file + ":" +
                  std::to_string(b->site->line) + ", block " + dims(blockIdx) + " of " +
                  dims(uint3{gridDim.x, gridDim.y, gridDim.z}) + ", " + std::to_string(b->threads) + " threads";
  if (b->current >= 0) s += ", " + lane_name(*b, b->current);
  return s;
}

void run_grid(const KernelSite& site, dim3 grid, dim3 block, size_t shmem_bytes, const std::function<void()>& body) {
  static pid_t watched = 0;  // per process: a fork has no threads but its own
  if (watched != getpid()) {
    watched = getpid();
    std::thread(watchdog).detach();
  }
  BlockRun b;
  b.site = &site;
  b.body = &body;
  b.threads = int(block.x * block.y * block.z);
  b.lanes.resize(size_t(b.threads));
  for (int i = 0; i < b.threads; i++)
    b.lanes[size_t(i)].tid = {unsigned(i) % block.x, unsigned(i) / block.x % block.y, unsigned(i) / (block.x * block.y)};
  std::vector<char> dynamic(shmem_bytes);
  b.dynamic = dynamic.data();
  b.dynamic_bytes = shmem_bytes;
  BlockRun* outer = tl_block;
  tl_block = &b;
  g_site = &site;
  g_in_kernel = true;
  gridDim = {grid.x, grid.y, grid.z};
  blockDim = {block.x, block.y, block.z};
  const int64_t blocks = int64_t(grid.x) * grid.y * grid.z;
  const std::vector<std::vector<int>> warps = warps_in_order(permutation(b.threads));
  // Block order: a permutation of the linear block index (fine for the grids dg launches).
  std::vector<int> order = permutation(int(blocks));
  for (int k : order) {
    const uint64_t u = uint64_t(k);
    blockIdx = {unsigned(u % grid.x), unsigned(u / grid.x % grid.y), unsigned(u / (uint64_t(grid.x) * grid.y))};
    run_block(b, warps);
  }
  g_in_kernel = false;
  tl_block = outer;
}

}  // namespace dgemu
