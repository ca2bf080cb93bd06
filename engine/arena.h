// Arena: stack-like (bump) allocation of device or host memory with peak tracking.
//
// Training allocates its parameters once, then per step allocates activations and
// scratch and releases them back to a mark. Memory is taken from the backing allocator
// in large blocks and never returned until the arena dies, so a steady-state step
// makes no allocator calls. `peak_bytes` is the high-water mark of bytes in use;
// `held_peak_bytes` the same without the ops' workspaces (between begin_workspace() and
// end_workspace(): cuDNN's workspace, the CPU convolutions' im2col buffers), which depend
// on the backend and on the algorithms chosen, while what the model holds does not.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace dg {

struct ArenaBacking {
  std::function<void*(size_t bytes)> allocate;  // throws dg::Error on failure
  std::function<void(void*)> release;
  const char* name = "host";
  // Optional: told of every range the arena hands out (in_use = true, exactly the bytes asked
  // for) and takes back or has not handed out yet (false), in the order the memory's users see
  // it (the CUDA backing queues it on its stream). Sanitizer builds poison the free ranges with
  // it, so that a write past the end of a tensor into a guard zone or free space is an ASan
  // report; the emulator build also fills fresh device ranges with NaN.
  std::function<void(void* p, size_t bytes, bool in_use)> on_change;
};
ArenaBacking host_backing();

class Arena {
 public:
  static constexpr size_t kAlignment = 256;  // cuDNN/cuBLAS and AVX friendly
  // Free bytes between two allocations of a block in sanitizer and emulator builds (a guard
  // zone the backing's on_change keeps poisoned); not counted as in use.
  static const size_t kGuardBytes;

  explicit Arena(ArenaBacking backing, size_t block_bytes = size_t(64) << 20);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* allocate(size_t bytes);

  struct Mark {
    size_t block = 0, offset = 0, in_use = 0;
  };
  Mark mark() const { return {current_, offset_, in_use_}; }
  void release(Mark m);  // frees everything allocated after m
  // A range handed out earlier is used anew, now its first `bytes` alone (gradient buffers that
  // take turns): told to the backing's on_change as if freed and allocated again, so that
  // sanitizer builds poison the rest and the emulator refills the used part with NaN.
  void reuse(void* range, size_t range_bytes, size_t bytes);

  size_t in_use_bytes() const { return in_use_; }
  size_t peak_bytes() const { return peak_; }
  size_t held_peak_bytes() const { return held_peak_; }
  void begin_workspace() { workspace_depth_++; }
  void end_workspace() { workspace_depth_--; }
  size_t reserved_bytes() const { return reserved_; }

 private:
  struct Block {
    char* base;
    size_t size;
  };
  ArenaBacking backing_;
  size_t block_bytes_;
  std::vector<Block> blocks_;
  size_t current_ = 0, offset_ = 0;  // bump position: blocks_[current_] + offset_
  size_t in_use_ = 0, peak_ = 0, held_peak_ = 0, reserved_ = 0;
  int workspace_depth_ = 0;
};

}  // namespace dg
