// Configuration, errors and devices of the emulated CUDA runtime.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>

#include "emu.h"

namespace dgemu {

namespace {

Config read_config() {
  Config c;
  if (const char* o = std::getenv("DGEMU_ORDER")) {
    const std::string s = o;
    if (s == "forward") c.order = Order::forward;
    else if (s == "reverse") c.order = Order::reverse;
    else if (s == "random") c.order = Order::random;
    else {
      std::fprintf(stderr, "dgemu: DGEMU_ORDER=%s is not forward, reverse or random\n", o);
      std::abort();
    }
  }
  if (const char* s = std::getenv("DGEMU_SEED")) c.seed = std::strtoull(s, nullptr, 10);
  if (const char* d = std::getenv("DGEMU_DEVICES")) c.devices = std::atoi(d);
  if (const char* m = std::getenv("DGEMU_DEVICE_MEMORY_MB")) c.device_bytes = size_t(std::atoll(m)) << 20;
  if (const char* w = std::getenv("DGEMU_WATCHDOG_S")) c.watchdog_s = std::atof(w);
  if (const char* e = std::getenv("DGEMU_RUNTIME_ERROR")) {
    const std::string s = e;
    if (s == "insufficient_driver") c.runtime_error = cudaErrorInsufficientDriver;
    else if (s == "initialization") c.runtime_error = cudaErrorInitializationError;
    else if (s == "unknown") c.runtime_error = cudaErrorUnknown;
    else {
      std::fprintf(stderr, "dgemu: DGEMU_RUNTIME_ERROR=%s is not insufficient_driver, initialization or unknown\n", e);
      std::abort();
    }
  }
  return c;
}

thread_local cudaError_t tl_last_error = cudaSuccess;
thread_local std::string tl_detail;         // what the emulator said of its latest error
thread_local cudaError_t tl_detail_error = cudaSuccess;
thread_local int tl_device = 0;

struct Rng {
  std::mt19937_64 g;
  Rng() : g(config().seed) {}
};
Rng& rng() {
  static Rng r;
  return r;
}

}  // namespace

Config& mutable_config() {
  static Config c = read_config();
  return c;
}
const Config& config() { return mutable_config(); }

const char* order_name(Order o) {
  return o == Order::forward ? "forward" : o == Order::reverse ? "reverse" : "random";
}

uint64_t next_random() { return rng().g(); }

size_t choose(size_t n) {
  switch (config().order) {
    case Order::forward: return 0;
    case Order::reverse: return n - 1;
    default: return size_t(next_random() % n);
  }
}

std::vector<int> permutation(int n) {
  std::vector<int> p(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) p[size_t(i)] = config().order == Order::reverse ? n - 1 - i : i;
  if (config().order == Order::random)
    for (int i = n - 1; i > 0; i--) std::swap(p[size_t(i)], p[size_t(next_random() % uint64_t(i + 1))]);
  return p;
}

std::recursive_mutex& device_mutex() {
  static std::recursive_mutex m;
  return m;
}

void fatal(const std::string& what) {
  const std::string kernel = running_kernel();
  std::fprintf(stderr, "dgemu: %s%s%s\n", what.c_str(), kernel.empty() ? "" : "\n  in ", kernel.c_str());
  std::fflush(stderr);
  std::abort();
}

cudaError_t fail(cudaError_t err, const std::string& detail) {
  tl_last_error = err;
  tl_detail = detail;
  tl_detail_error = err;
  if (std::getenv("DGEMU_VERBOSE")) std::fprintf(stderr, "dgemu: %s\n", detail.c_str());
  return err;
}

std::string hex(const void* p) {
  char b[32];
  std::snprintf(b, sizeof b, "%p", p);
  return b;
}

int current_device() { return tl_device; }

}  // namespace dgemu

using namespace dgemu;

namespace {

const char* error_name(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidPitchValue: return "cudaErrorInvalidPitchValue";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorCallRequiresNewerDriver: return "cudaErrorCallRequiresNewerDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalState: return "cudaErrorIllegalState";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureUnmatched: return "cudaErrorStreamCaptureUnmatched";
    case cudaErrorStreamCaptureUnjoined: return "cudaErrorStreamCaptureUnjoined";
    case cudaErrorStreamCaptureIsolation: return "cudaErrorStreamCaptureIsolation";
    case cudaErrorStreamCaptureImplicit: return "cudaErrorStreamCaptureImplicit";
    case cudaErrorCapturedEvent: return "cudaErrorCapturedEvent";
    case cudaErrorStreamCaptureWrongThread: return "cudaErrorStreamCaptureWrongThread";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "unrecognized error code";
}

// The runtime's own descriptions (the CUDA Runtime API reference's wording, shortened).
const char* error_text(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorCallRequiresNewerDriver: return "API call requires a newer CUDA driver";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched: return "capture was not ended in the same stream as it began";
    case cudaErrorStreamCaptureUnjoined: return "capturing stream has unjoined work";
    case cudaErrorStreamCaptureImplicit: return "operation would make the legacy stream depend on a capturing blocking stream";
    case cudaErrorCapturedEvent: return "operation not permitted on an event last recorded in a capturing stream";
    default: return error_name(e);
  }
}

}  // namespace

extern "C" {

const char* cudaGetErrorName(cudaError_t error) { return error_name(error); }

// The documented text, followed by the emulator's detail when this thread's latest emulator
// error was this one (e.g. "invalid argument [dgemu: cudaMemcpyAsync: ...]").
const char* cudaGetErrorString(cudaError_t error) {
  thread_local std::string text;
  text = error_text(error);
  if (error == tl_detail_error && !tl_detail.empty()) text += " [dgemu: " + tl_detail + "]";
  return text.c_str();
}

cudaError_t cudaGetLastError(void) {
  const cudaError_t e = tl_last_error;
  tl_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) { return tl_last_error; }

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount: count is null");
  *count = 0;
  if (config().runtime_error != cudaSuccess)
    return fail(config().runtime_error, "cudaGetDeviceCount: DGEMU_RUNTIME_ERROR asks for a broken runtime");
  if (config().devices <= 0) return fail(cudaErrorNoDevice, "cudaGetDeviceCount: DGEMU_DEVICES=0");
  *count = config().devices;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (config().runtime_error != cudaSuccess) return fail(config().runtime_error, "cudaSetDevice: broken runtime");
  if (device < 0 || device >= config().devices)
    return fail(cudaErrorInvalidDevice, "cudaSetDevice(" + std::to_string(device) + "): " +
                                            std::to_string(config().devices) + " emulated devices");
  tl_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue, "cudaGetDevice: device is null");
  *device = tl_device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties: prop is null");
  if (device < 0 || device >= config().devices)
    return fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties(" + std::to_string(device) + ")");
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "dg CUDA emulator (CPU), device %d", device);
  prop->totalGlobalMem = config().device_bytes;
  prop->sharedMemPerBlock = 48 << 10;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->multiProcessorCount = 1;
  prop->l2CacheSize = 1 << 20;
  prop->major = 9;
  prop->minor = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  if (!value) return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: value is null");
  if (cudaError_t e = cudaGetDeviceProperties(&p, device); e != cudaSuccess) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = int(p.sharedMemPerBlock); break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    default: return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute " + std::to_string(int(attr)));
  }
  return cudaSuccess;
}

// Lower numbers are higher priorities; the emulator keeps the priority but schedules by
// DGEMU_ORDER only (CUDA promises nothing about priorities either).
cudaError_t cudaDeviceGetStreamPriorityRange(int* least, int* greatest) {
  if (least) *least = 0;
  if (greatest) *greatest = -5;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
  Lock lock(device_mutex());
  if (cudaError_t e = check_capture_allows("cudaDeviceSynchronize"); e != cudaSuccess) return e;
  synchronize_device("cudaDeviceSynchronize");
  return cudaSuccess;
}

void dgemu_set_order(const char* order, unsigned long long seed) {
  Lock lock(device_mutex());
  const std::string o = order;
  mutable_config().order = o == "reverse" ? Order::reverse : o == "random" ? Order::random : Order::forward;
  mutable_config().seed = seed;
  rng().g.seed(seed);
}

void dgemu_set_watchdog(double seconds) {
  Lock lock(device_mutex());
  mutable_config().watchdog_s = seconds;
}

}  // extern "C"
