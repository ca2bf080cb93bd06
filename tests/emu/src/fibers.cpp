// Kernels on the host: the fibers that run CUDA threads, their stacks and the switches between
// the block scheduler (blocks.cpp) and a lane, with ASan told about every stack change.
#include <sys/mman.h>
#include <unistd.h>

#include "blocks.h"

namespace dgemu {

namespace {

// ---- fiber stacks: mmap'd with a guard page below, reused ----
constexpr size_t kStackBytes = size_t(256) << 10;  // ASan's reports need room

struct StackPool {
  std::vector<void*> free;
  size_t page = size_t(sysconf(_SC_PAGESIZE));
  void* take() {
    if (!free.empty()) {
      void* s = free.back();
      free.pop_back();
      return s;
    }
    void* p = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) fatal("cannot map a fiber stack");
    mprotect(p, page, PROT_NONE);  // overflow faults instead of writing into the next stack
    return static_cast<char*>(p) + page;
  }
  void give(void* s) { free.push_back(s); }
};
StackPool& stacks() {
  static thread_local StackPool p;
  return p;
}

// boost::context's StackAllocator over the pool.
struct PoolStack {
  void* bottom;
  ctx::stack_context allocate() {
    ctx::stack_context sc;
    sc.size = kStackBytes;
    sc.sp = static_cast<char*>(bottom) + kStackBytes;
    return sc;
  }
  void deallocate(ctx::stack_context& sc) { stacks().give(static_cast<char*>(sc.sp) - kStackBytes); }
};

}  // namespace

// ---- switching, with ASan told about every stack change ----
void switch_to_lane(BlockRun& b, int i) {
  Lane& l = b.lanes[size_t(i)];
  b.current = i;
  threadIdx = l.tid;
  g_switches.fetch_add(1, std::memory_order_relaxed);
#ifdef DGEMU_ASAN
  __sanitizer_start_switch_fiber(&b.scheduler_fake, l.stack, kStackBytes);
#endif
  l.fiber = std::move(l.fiber).resume();
#ifdef DGEMU_ASAN
  __sanitizer_finish_switch_fiber(b.scheduler_fake, nullptr, nullptr);
#endif
  b.current = -1;
}

// From a lane back to the scheduler; returns when the scheduler resumes it.
void suspend_lane() {
  BlockRun& b = *tl_block;
  Lane& l = b.lanes[size_t(b.current)];
#ifdef DGEMU_ASAN
  __sanitizer_start_switch_fiber(&l.fake_stack, b.scheduler_bottom, b.scheduler_size);
#endif
  l.back = std::move(l.back).resume();
#ifdef DGEMU_ASAN
  __sanitizer_finish_switch_fiber(l.fake_stack, &b.scheduler_bottom, &b.scheduler_size);
#endif
}

void start_lane(BlockRun& b, int i) {
  Lane& l = b.lanes[size_t(i)];
  l.stack = stacks().take();
  l.state = State::runnable;
  l.fiber = ctx::fiber(std::allocator_arg, PoolStack{l.stack}, [&b, i](ctx::fiber&& back) {
    Lane& me = b.lanes[size_t(i)];
    me.back = std::move(back);
#ifdef DGEMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &b.scheduler_bottom, &b.scheduler_size);
#endif
    (*b.body)();
    me.state = State::exited;
#ifdef DGEMU_ASAN
    __sanitizer_start_switch_fiber(nullptr, b.scheduler_bottom, b.scheduler_size);  // this fiber ends
#endif
    return std::move(me.back);
  });
  switch_to_lane(b, i);
}

}  // namespace dgemu
