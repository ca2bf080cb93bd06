// Device and pinned memory of the emulator, and the copies and fills between them.
//
// cudaMalloc returns exact-size host memory (so ASan reports the first byte past the end)
// filled with 0xff bytes: NaN as float or double, -1 as an integer, so a read of memory that
// no one wrote shows. Every allocation is registered: a host pointer where a device one
// belongs (a copy's direction, a kernel argument, a library call) is an error naming the call.
//
// Copies keep CUDA's host-side semantics: from pageable host memory the source is read when
// the call is made; to pageable host memory the call returns when the copy is done (the
// stream's earlier work included); from or to pinned memory the copy reads or writes the
// host buffer only when the stream reaches it.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "dgemu/introspect.h"
#include "emu.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define DGEMU_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define DGEMU_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define DGEMU_POISON(p, n) ((void)(p), (void)(n))
#define DGEMU_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace dgemu {

namespace {

struct Registry {
  std::map<uintptr_t, Allocation> by_base;
  size_t device_bytes_used = 0;
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: memory a process still holds at exit is
  return *r;                          // released with it, as the driver does, not a leak
}

const char* kind_name(cudaMemcpyKind k) {
  switch (k) {
    case cudaMemcpyHostToHost: return "cudaMemcpyHostToHost";
    case cudaMemcpyHostToDevice: return "cudaMemcpyHostToDevice";
    case cudaMemcpyDeviceToHost: return "cudaMemcpyDeviceToHost";
    case cudaMemcpyDeviceToDevice: return "cudaMemcpyDeviceToDevice";
    case cudaMemcpyDefault: return "cudaMemcpyDefault";
  }
  return "an unknown cudaMemcpyKind";
}

bool is_device(const void* p) {
  const Allocation* a = find_allocation(p);
  return a && a->kind == MemKind::device;
}

void* allocate(size_t bytes) {
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes) != 0) return nullptr;
  return p;
}

// Large device allocations (dg's 64 MB arena blocks, cuDNN search workspaces of 256 MB) would
// cost a page fault and a write per page to fill with NaN bytes. They are instead private
// copy-on-write mappings of a NaN-filled memory file: reading gives NaN bytes for free, a page
// is copied only when written. A PROT_NONE page follows each, so running off the end faults
// (ASan's exact-size report covers the small allocations; the arena's guard zones, the tensors
// inside a block).
constexpr size_t kMappedBytes = size_t(1) << 20;  // from this size on
constexpr size_t kTemplateBytes = size_t(64) << 20;
size_t page_size() { return size_t(sysconf(_SC_PAGESIZE)); }
size_t mapped_span(size_t bytes) { return (bytes + page_size() - 1) / page_size() * page_size() + page_size(); }

int nan_file() {
  static const int fd = [] {
    const int f = memfd_create("dgemu-nan", 0);
    if (f < 0 || ftruncate(f, off_t(kTemplateBytes)) != 0) fatal("cannot create the NaN memory file");
    void* p = mmap(nullptr, kTemplateBytes, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    if (p == MAP_FAILED) fatal("cannot map the NaN memory file");
    std::memset(p, 0xff, kTemplateBytes);
    munmap(p, kTemplateBytes);
    return f;
  }();
  return fd;
}

void* allocate_mapped(size_t bytes) {
  const size_t span = mapped_span(bytes);
  void* base = mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  const size_t usable = span - page_size();
  for (size_t off = 0; off < usable; off += kTemplateBytes) {
    const size_t n = std::min(kTemplateBytes, usable - off);
    if (mmap(static_cast<char*>(base) + off, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, nan_file(), 0) ==
        MAP_FAILED) {
      munmap(base, span);
      return nullptr;
    }
  }
  return base;
}

void release(void* p, size_t bytes) {
  if (bytes >= kMappedBytes) munmap(p, mapped_span(bytes));
  else std::free(p);
}

}  // namespace

const Allocation* find_allocation(const void* p) {
  const auto& m = registry().by_base;
  const uintptr_t u = reinterpret_cast<uintptr_t>(p);
  auto it = m.upper_bound(u);
  if (it == m.begin()) return nullptr;
  --it;
  const Allocation& a = it->second;
  return u < it->first + a.bytes ? &a : nullptr;
}

// One past the end counts as inside (an empty range at the end of an allocation).
std::string check_device_range(const void* p, size_t bytes, bool pinned_ok) {
  const Allocation* a = find_allocation(p);
  if (!a && bytes == 0) {
    const Allocation* before = find_allocation(static_cast<const char*>(p) - 1);
    if (before && (before->kind == MemKind::device || pinned_ok)) return "";
  }
  if (!a) return hex(p) + " is not device memory (no live cudaMalloc allocation holds it)";
  if (a->kind != MemKind::device && !pinned_ok)
    return hex(p) + " is pinned host memory (cudaMallocHost), not device memory";
  const size_t offset = size_t(static_cast<const char*>(p) - a->base);
  if (bytes > a->bytes - offset)
    return hex(p) + " + " + std::to_string(bytes) + " bytes runs " + std::to_string(bytes - (a->bytes - offset)) +
           " bytes past the end of its allocation of " + std::to_string(a->bytes) + " bytes";
  return "";
}

bool is_pinned(const void* p) {
  const Allocation* a = find_allocation(p);
  return a && a->kind == MemKind::pinned;
}

size_t live_allocations(MemKind kind) {
  size_t n = 0;
  for (const auto& [base, a] : registry().by_base) n += a.kind == kind;
  return n;
}

namespace {

// Checks a copy of `bytes` from src to dst against `kind`; on success says which sides are
// device memory.
cudaError_t check_copy(const char* call, void* dst, const void* src, size_t dst_bytes, size_t src_bytes,
                       cudaMemcpyKind kind, bool* dst_device, bool* src_device) {
  *dst_device = is_device(dst);
  *src_device = is_device(src);
  if (kind == cudaMemcpyDefault) kind = cudaMemcpyKind((*src_device ? 2 : 0) + (*dst_device ? 1 : 0));
  const bool want_dst = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool want_src = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
    return fail(cudaErrorInvalidMemcpyDirection, std::string(call) + ": kind " + std::to_string(int(kind)));
  if (dst_bytes == 0 && src_bytes == 0) return cudaSuccess;
  if (!dst || !src) return fail(cudaErrorInvalidValue, std::string(call) + ": a null pointer");
  if (want_dst != *dst_device)
    return fail(cudaErrorInvalidValue, std::string(call) + ": the destination " + hex(dst) + " is " +
                                           (*dst_device ? "device" : "host") + " memory, but the kind is " +
                                           kind_name(kind));
  if (want_src != *src_device)
    return fail(cudaErrorInvalidValue, std::string(call) + ": the source " + hex(src) + " is " +
                                           (*src_device ? "device" : "host") + " memory, but the kind is " +
                                           kind_name(kind));
  if (want_dst)
    if (std::string why = check_device_range(dst, dst_bytes); !why.empty())
      return fail(cudaErrorInvalidValue, std::string(call) + ": the destination " + why);
  if (want_src)
    if (std::string why = check_device_range(src, src_bytes); !why.empty())
      return fail(cudaErrorInvalidValue, std::string(call) + ": the source " + why);
  return cudaSuccess;
}

// Queues a copy on stream `s` with CUDA's host-side semantics (see the top of this file).
cudaError_t queue_copy(const char* call, Stream* s, void* dst, const void* src, size_t bytes, bool dst_device,
                       bool src_device) {
  if (bytes == 0) return cudaSuccess;
  const bool src_pageable = !src_device && !is_pinned(src);
  const bool dst_pageable = !dst_device && !is_pinned(dst);
  if ((src_pageable || dst_pageable) && stream_capturing(s))
    return forbid_in_capture(s, std::string(call) + " with pageable host memory");
  const std::string what = std::string(call) + " of " + std::to_string(bytes) + " bytes";
  if (!dst_device && !src_device) {  // host to host: fully synchronous (after the stream's work)
    synchronize_stream(s, call);
    std::memmove(dst, src, bytes);
    return cudaSuccess;
  }
  if (src_pageable) {  // the source is read now
    auto copy = std::make_shared<std::vector<char>>(static_cast<const char*>(src), static_cast<const char*>(src) + bytes);
    return enqueue(s, what, [dst, copy] { std::memcpy(dst, copy->data(), copy->size()); });
  }
  auto done = std::make_shared<bool>(false);
  cudaError_t e = enqueue(s, what, [dst, src, bytes, done] {
    std::memmove(dst, src, bytes);
    *done = true;
  });
  if (e == cudaSuccess && dst_pageable) {  // returns when copied
    note_host_wait({s});
    run_until([&] { return *done; }, call, {s});  // (it is the last operation of s)
  }
  return e;
}

}  // namespace

}  // namespace dgemu

using namespace dgemu;

extern "C" {

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  Lock lock(device_mutex());
  if (!ptr) return fail(cudaErrorInvalidValue, "cudaMalloc: ptr is null");
  *ptr = nullptr;
  if (cudaError_t e = check_capture_allows("cudaMalloc"); e != cudaSuccess) return e;
  if (bytes == 0) return cudaSuccess;
  Registry& r = registry();
  if (bytes > config().device_bytes - r.device_bytes_used)
    return fail(cudaErrorMemoryAllocation, "cudaMalloc(" + std::to_string(bytes) + "): " +
                                               std::to_string(config().device_bytes - r.device_bytes_used) +
                                               " bytes of the emulated device are free (DGEMU_DEVICE_MEMORY_MB)");
  void* p = bytes >= kMappedBytes ? allocate_mapped(bytes) : allocate(bytes);
  if (!p) return fail(cudaErrorMemoryAllocation, "cudaMalloc(" + std::to_string(bytes) + "): host out of memory");
  if (bytes < kMappedBytes) std::memset(p, 0xff, bytes);  // NaN (mapped ones read as NaN already)
  r.by_base[reinterpret_cast<uintptr_t>(p)] = {static_cast<char*>(p), bytes, MemKind::device, current_device()};
  r.device_bytes_used += bytes;
  *ptr = p;
  return cudaSuccess;
}

// Like CUDA's, it waits for the device's queued work (which may still use the memory).
cudaError_t cudaFree(void* ptr) {
  Lock lock(device_mutex());
  if (!ptr) return cudaSuccess;
  if (cudaError_t e = check_capture_allows("cudaFree"); e != cudaSuccess) return e;
  Registry& r = registry();
  auto it = r.by_base.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == r.by_base.end() || it->second.kind != MemKind::device)
    return fail(cudaErrorInvalidValue, "cudaFree(" + hex(ptr) + "): not the start of a live cudaMalloc allocation");
  synchronize_device("cudaFree");
  DGEMU_UNPOISON(ptr, it->second.bytes);
  r.device_bytes_used -= it->second.bytes;
  const size_t bytes = it->second.bytes;
  r.by_base.erase(it);
  release(ptr, bytes);
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned int) {
  Lock lock(device_mutex());
  if (!ptr) return fail(cudaErrorInvalidValue, "cudaMallocHost: ptr is null");
  *ptr = nullptr;
  if (cudaError_t e = check_capture_allows("cudaMallocHost"); e != cudaSuccess) return e;
  if (bytes == 0) return cudaSuccess;
  void* p = allocate(bytes);
  if (!p) return fail(cudaErrorMemoryAllocation, "cudaMallocHost(" + std::to_string(bytes) + ")");
  std::memset(p, 0xff, bytes);
  registry().by_base[reinterpret_cast<uintptr_t>(p)] = {static_cast<char*>(p), bytes, MemKind::pinned, current_device()};
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) { return cudaHostAlloc(ptr, bytes, cudaHostAllocDefault); }

cudaError_t cudaFreeHost(void* ptr) {
  Lock lock(device_mutex());
  if (!ptr) return cudaSuccess;
  if (cudaError_t e = check_capture_allows("cudaFreeHost"); e != cudaSuccess) return e;
  Registry& r = registry();
  auto it = r.by_base.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == r.by_base.end() || it->second.kind != MemKind::pinned)
    return fail(cudaErrorInvalidValue, "cudaFreeHost(" + hex(ptr) + "): not the start of a live cudaMallocHost allocation");
  synchronize_device("cudaFreeHost");  // queued copies may still read or write it
  r.by_base.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  Lock lock(device_mutex());
  if (free_bytes) *free_bytes = config().device_bytes - registry().device_bytes_used;
  if (total_bytes) *total_bytes = config().device_bytes;
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaMemcpyAsync");
  if (!s) return cudaErrorInvalidResourceHandle;
  bool dd, sd;
  if (cudaError_t e = check_copy("cudaMemcpyAsync", dst, src, bytes, bytes, kind, &dd, &sd); e != cudaSuccess) return e;
  return queue_copy("cudaMemcpyAsync", s, dst, src, bytes, dd, sd);
}

// On the legacy default stream, returning when the copy is done.
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  Lock lock(device_mutex());
  if (cudaError_t e = check_capture_allows("cudaMemcpy"); e != cudaSuccess) return e;
  bool dd, sd;
  if (cudaError_t e = check_copy("cudaMemcpy", dst, src, bytes, bytes, kind, &dd, &sd); e != cudaSuccess) return e;
  Stream* s = stream_of(cudaStreamLegacy, "cudaMemcpy");
  if (cudaError_t e = queue_copy("cudaMemcpy", s, dst, src, bytes, dd, sd); e != cudaSuccess) return e;
  synchronize_stream(s, "cudaMemcpy");
  return cudaSuccess;
}

// `height` rows of `width` bytes, row r at dst + r * dpitch and src + r * spitch.
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaMemcpy2DAsync");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (width > dpitch || width > spitch)
    return fail(cudaErrorInvalidPitchValue, "cudaMemcpy2DAsync: width " + std::to_string(width) + " exceeds a pitch (" +
                                                std::to_string(dpitch) + ", " + std::to_string(spitch) + ")");
  if (width == 0 || height == 0) return cudaSuccess;
  bool dd, sd;
  const size_t dspan = dpitch * (height - 1) + width, sspan = spitch * (height - 1) + width;
  if (cudaError_t e = check_copy("cudaMemcpy2DAsync", dst, src, dspan, sspan, kind, &dd, &sd); e != cudaSuccess) return e;
  if ((!dd && !is_pinned(dst)) || (!sd && !is_pinned(src)))
    return fail(cudaErrorInvalidValue, "cudaMemcpy2DAsync with pageable host memory is not emulated");
  return enqueue(s, "cudaMemcpy2DAsync of " + std::to_string(height) + " rows of " + std::to_string(width) + " bytes",
                 [=] {
                   for (size_t r = 0; r < height; r++)
                     std::memmove(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
                 });
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaMemsetAsync");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (bytes == 0) return cudaSuccess;
  if (std::string why = check_device_range(ptr, bytes, true); !why.empty())
    return fail(cudaErrorInvalidValue, "cudaMemsetAsync: " + why);
  return enqueue(s, "cudaMemsetAsync of " + std::to_string(bytes) + " bytes",
                 [ptr, value, bytes] { std::memset(ptr, value, bytes); });
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  Lock lock(device_mutex());
  if (cudaError_t e = check_capture_allows("cudaMemset"); e != cudaSuccess) return e;
  if (cudaError_t e = cudaMemsetAsync(ptr, value, bytes, cudaStreamLegacy); e != cudaSuccess) return e;
  synchronize_stream(stream_of(cudaStreamLegacy, "cudaMemset"), "cudaMemset");
  return cudaSuccess;
}

cudaError_t dgemu_mark_async(void* p, size_t bytes, bool in_use, cudaStream_t stream) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "dgemu_mark_async");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (bytes == 0) return cudaSuccess;
  if (std::string why = check_device_range(p, bytes); !why.empty()) return fail(cudaErrorInvalidValue, "dgemu_mark_async: " + why);
  // A capture already invalidated is dropped whole: its marks do not matter, and failing them
  // would throw from the arena's scope ends while the error that invalidated it unwinds.
  if (capture_invalidated(s)) return cudaSuccess;
  return enqueue(s, in_use ? "arena range in use" : "arena range free", [p, bytes, in_use] {
    if (in_use) {
      DGEMU_UNPOISON(p, bytes);
      std::memset(p, 0xff, bytes);
    } else {
      DGEMU_POISON(p, bytes);
    }
  });
}

}  // extern "C"
