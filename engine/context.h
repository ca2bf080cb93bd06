// Context: everything an op needs to run, passed explicitly (dg has no global state).
// It holds the device, the arena all tensors come from, and on CUDA the stream and the
// library handles (engine/cuda/cuda_context.h, opaque here so CPU code needs no CUDA).
#pragma once
#include <functional>
#include <memory>

#include "engine/arena.h"
#include "engine/tensor.h"

namespace dg {

struct CudaState;  // engine/cuda/cuda_context.h

struct ContextOptions {
  Device device = Device::cpu;
  int cuda_device = 0;
  bool strict_fp32 = false;  // CUDA: no TF32 tensor-core math (tests, comparisons)
  bool deterministic = false;  // CUDA: deterministic convolution algorithms only (no atomics)
  size_t arena_block_bytes = size_t(64) << 20;
};

class Context {
 public:
  explicit Context(ContextOptions opt = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Device device() const { return opt_.device; }
  bool on_cuda() const { return opt_.device == Device::cuda; }
  bool strict_fp32() const { return opt_.strict_fp32; }
  Arena& arena() { return *arena_; }
  CudaState& cuda();  // throws on a CPU context

  // A tensor of this shape from the arena (contents undefined).
  Tensor alloc(Shape s);
  // Same, filled with zeros.
  Tensor zeros(Shape s);

  // Host <-> tensor copies (synchronous; for setup, tests and logging, never in a step).
  void upload(Tensor dst, const float* src);
  void download(const Tensor& src, float* dst);
  void fill(Tensor t, float value);
  void synchronize();

  // Runs body() when any element of `t` is non-zero, without the host reading `t` on a GPU:
  // on the CPU it looks; on CUDA, queued one by one, body() always runs; on CUDA while the
  // step is being captured as a graph (engine/step_graph.h), what body() queues becomes the
  // body of a conditional node, and a kernel before it decides on the device at every replay
  // (where the driver has no conditional nodes, body() is captured as it is).
  // So body() must change nothing when `t` is all zero (its work is then wasted, not wrong).
  void when_any_nonzero(const Tensor& t, const std::function<void()>& body);

 private:
  ContextOptions opt_;
  std::unique_ptr<CudaState> cuda_;
  std::unique_ptr<Arena> arena_;
};

// Scratch memory for the duration of a scope: everything allocated from the context's
// arena inside it is released when it ends.
class ScratchScope {
 public:
  explicit ScratchScope(Context& ctx) : arena_(ctx.arena()), mark_(arena_.mark()) {}
  ~ScratchScope() { arena_.release(mark_); }
  ScratchScope(const ScratchScope&) = delete;
  ScratchScope& operator=(const ScratchScope&) = delete;

 private:
  Arena& arena_;
  Arena::Mark mark_;
};

// An op's working memory (im2col buffers, cuDNN's workspace, partial sums): a ScratchScope
// whose allocations stay out of the arena's held peak (Arena::held_peak_bytes).
class WorkspaceScope {
 public:
  explicit WorkspaceScope(Context& ctx) : scope_(ctx), arena_(ctx.arena()) { arena_.begin_workspace(); }
  ~WorkspaceScope() { arena_.end_workspace(); }
  WorkspaceScope(const WorkspaceScope&) = delete;
  WorkspaceScope& operator=(const WorkspaceScope&) = delete;

 private:
  ScratchScope scope_;
  Arena& arena_;
};

// True when this build has the CUDA backend and a CUDA device is visible.
bool cuda_available();
bool cuda_built();
// CUDA devices visible to this process: 0 without the backend, a driver or a device. A runtime
// that fails otherwise (a driver older than the runtime, a broken installation) throws
// dg::Error naming the CUDA error, here and in cuda_available(): never a quiet "no device".
int cuda_device_count();

}  // namespace dg
