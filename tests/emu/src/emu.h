// The emulator's own state, shared by its source files (never seen by dg's code).
//
// One process emulates DGEMU_DEVICES devices. Every runtime, cuBLAS, cuDNN and NCCL call holds
// the device lock (one recursive mutex); work queued on streams runs later, when something
// forces it (a synchronizing call, a copy to pageable memory, an event query), in an order that
// keeps only what CUDA guarantees: each stream in order, waits on events, the legacy stream's
// implicit synchronization. Among the streams that may run, DGEMU_ORDER decides.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dgemu {

// ---- configuration, from the environment (tests/emu/README.md) ----
enum class Order { forward, reverse, random };
struct Config {
  Order order = Order::forward;  // DGEMU_ORDER=forward|reverse|random
  uint64_t seed = 1;             // DGEMU_SEED, for random
  int devices = 2;               // DGEMU_DEVICES
  size_t device_bytes = size_t(16) << 30;  // DGEMU_DEVICE_MEMORY_MB
  cudaError_t runtime_error = cudaSuccess;  // DGEMU_RUNTIME_ERROR=insufficient_driver|...
  double watchdog_s = 600;       // DGEMU_WATCHDOG_S: a CUDA thread running longer without a switch
};
const Config& config();
const char* order_name(Order o);

// Choices among n candidates by the configured order: forward takes the first, reverse the
// last, random a seeded pick. `permutation` orders blocks and threads.
size_t choose(size_t n);
std::vector<int> permutation(int n);
uint64_t next_random();

// ---- diagnostics ----
// A broken kernel or call that cannot be reported as an error code (a divergent barrier, a
// deadlock): prints "dgemu: <what>" with the running kernel and aborts.
[[noreturn]] void fatal(const std::string& what);
// Sets this thread's last error to `err` with `detail` (what cudaGetErrorString then says) and
// returns it.
cudaError_t fail(cudaError_t err, const std::string& detail);
std::string hex(const void* p);

std::recursive_mutex& device_mutex();
using Lock = std::lock_guard<std::recursive_mutex>;
int current_device();

// ---- memory ----
enum class MemKind { device, pinned };
struct Allocation {
  char* base;
  size_t bytes;
  MemKind kind;
  int device;
};
// The live allocation holding p (base <= p < base + bytes), or nullptr.
const Allocation* find_allocation(const void* p);
// "" when [p, p + bytes) lies inside one live device allocation (or, with pinned_ok, pinned
// host memory, which kernels and memsets may use under unified addressing), else why not.
std::string check_device_range(const void* p, size_t bytes, bool pinned_ok = false);
bool is_pinned(const void* p);
size_t live_allocations(MemKind kind);

// ---- streams, events, graphs (streams.cpp, capture.cpp) ----
struct Stream;
struct Token {
  bool done = false;
  Stream* owner = nullptr;  // the stream whose operation sets it (valid while not done)
};
using TokenPtr = std::shared_ptr<Token>;
struct Op {
  std::string what;            // for diagnostics: "kernel axpy_kernel (elementwise.cu:23)"
  std::function<void()> run;
  std::vector<TokenPtr> waits;  // must be done first
  TokenPtr done;
};
// The stream a handle names (0 and cudaStreamLegacy: the legacy default stream), or nullptr
// with the last error set.
Stream* stream_of(cudaStream_t handle, const char* call);
// Queues `op` on the stream, or adds it to the graph being captured there.
cudaError_t enqueue(Stream* s, std::string what, std::function<void()> run);
// Runs queued work until `done()` holds (fatal on a deadlock). `why` names the waiting call.
// Only the streams in `needed` and those they wait for run (as on a GPU, waiting for one
// stream does not wait for unrelated ones); empty: any stream. `until`: the operation awaited
// in `needed` (null: all their queued work); nothing queued after it, or after the records it
// waits for, runs.
void run_until(const std::function<bool()>& done, const char* why, std::vector<Stream*> needed = {},
               const TokenPtr& until = nullptr);
// Counts a host wait on each stream of `on` (empty: every stream); see Stream::host_waits.
void note_host_wait(const std::vector<Stream*>& on);
void synchronize_stream(Stream* s, const char* why);
void synchronize_device(const char* why);
bool stream_capturing(const Stream* s);
bool capture_invalidated(const Stream* s);  // capturing, and the capture is invalidated
// Invalidates the capture of `s` for an operation it cannot hold; returns the error.
cudaError_t forbid_in_capture(Stream* s, const std::string& what);
// A call that CUDA forbids while a capture is under way (cudaMalloc, a synchronous copy...):
// returns cudaErrorStreamCaptureUnsupported and invalidates the capture when one forbids it.
cudaError_t check_capture_allows(const char* call);
size_t live_streams();
size_t live_events();
// Multi-process NCCL needs the device to move on while the host waits elsewhere (in MPI, for
// another rank): a background thread then runs work that has waited a while.
void start_background_progress();

// ---- kernels (blocks.cpp) ----
void run_grid(const dgemu::KernelSite& site, dim3 grid, dim3 block, size_t shmem_bytes,
              const std::function<void()>& body);
// The running kernel for diagnostics ("" outside kernels).
std::string running_kernel();
std::string running_operation();  // the queued operation now running ("" when none)

}  // namespace dgemu
