// Device code on the host: what a .cu file sees of CUDA C++ when dg's CUDA emulator builds it
// with g++ (-DDG_CUDA=EMU; tests/emu/README.md). Every CUDA thread of a block runs as a fiber
// (tests/emu/src/blocks.cpp); the calls below that synchronize threads suspend the fiber until
// the block's other threads (or the warp's lanes) reach theirs.
//
// Written from the CUDA C++ Programming Guide (built-in variables, synchronization, warp
// shuffle/vote, atomic and intrinsic functions): only what dg's kernels use, plus the obvious
// neighbours, each with the guide's semantics.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

// Function and variable qualifiers. `__shared__` variables are statics in one linker section,
// so that all fibers of a block share them and the emulator can poison the whole section (NaN
// bytes) before each block; GCC instruments them for ASan with -fsanitize-sections=dgemu_shared.
// A __shared__ variable must sit in a function of internal linkage (a `static` kernel or one in
// an anonymous namespace): statics of inline or template functions with external linkage live
// in COMDAT groups, and GCC then reports a "section type conflict".
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static __attribute__((section("dgemu_shared")))

// Built-in variables of the running CUDA thread, set by the emulator before every switch into
// one of its fibers. Plain globals: one host thread at a time runs kernels (the device lock).
// (Not thread_local: GCC's UBSan null check on an extern thread_local tests the flags of an
// `add` that the linker relaxes into a flag-less `lea`, and then reports a null pointer.)
// blockDim and gridDim are dim3 in CUDA; uint3 here converts to it.
extern uint3 threadIdx, blockIdx, blockDim, gridDim;
constexpr int warpSize = 32;

using std::isfinite;
using std::isinf;
using std::isnan;

namespace dgemu {

// The synchronizing calls suspend the calling fiber; `site` names the call in diagnostics.
void sync_block(std::source_location site);
int sync_block_count(int predicate, std::source_location site);  // __syncthreads_count
enum class WarpOp { sync, shfl, shfl_up, shfl_down, shfl_xor, ballot, all };
// One warp-wide exchange: the lanes named in `mask` meet at the same kind of call; each gives
// `bits` (a value of `bytes` bytes) and gets the result of `op` with `arg` and `width`.
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t bits, int bytes, int arg, int width,
                       std::source_location site);
void* dynamic_shared();  // the launch's dynamic shared memory, NaN-poisoned per block

template <class T>
uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable_v<T> && (sizeof(T) == 4 || sizeof(T) == 8),
                "warp shuffles move 4- or 8-byte values");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

}  // namespace dgemu

// ---- synchronization ----
inline void __syncthreads(std::source_location site = std::source_location::current()) { dgemu::sync_block(site); }
inline int __syncthreads_count(int predicate, std::source_location site = std::source_location::current()) {
  return dgemu::sync_block_count(predicate, site);
}
inline int __syncthreads_or(int predicate, std::source_location site = std::source_location::current()) {
  return dgemu::sync_block_count(predicate, site) != 0;
}
inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location site = std::source_location::current()) {
  dgemu::warp_exchange(dgemu::WarpOp::sync, mask, 0, 4, 0, warpSize, site);
}

// ---- warp shuffles and votes (the _sync forms; the mask is checked) ----
template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              std::source_location site = std::source_location::current()) {
  return dgemu::from_bits<T>(
      dgemu::warp_exchange(dgemu::WarpOp::shfl, mask, dgemu::to_bits(var), sizeof(T), src_lane, width, site));
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 std::source_location site = std::source_location::current()) {
  return dgemu::from_bits<T>(dgemu::warp_exchange(dgemu::WarpOp::shfl_up, mask, dgemu::to_bits(var), sizeof(T),
                                                  int(delta), width, site));
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   std::source_location site = std::source_location::current()) {
  return dgemu::from_bits<T>(dgemu::warp_exchange(dgemu::WarpOp::shfl_down, mask, dgemu::to_bits(var), sizeof(T),
                                                  int(delta), width, site));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  std::source_location site = std::source_location::current()) {
  return dgemu::from_bits<T>(
      dgemu::warp_exchange(dgemu::WarpOp::shfl_xor, mask, dgemu::to_bits(var), sizeof(T), lane_mask, width, site));
}
inline unsigned __ballot_sync(unsigned mask, int predicate,
                              std::source_location site = std::source_location::current()) {
  return unsigned(dgemu::warp_exchange(dgemu::WarpOp::ballot, mask, predicate != 0, 4, 0, warpSize, site));
}
inline int __any_sync(unsigned mask, int predicate, std::source_location site = std::source_location::current()) {
  return __ballot_sync(mask, predicate, site) != 0;
}
// True when the predicate holds on every named lane that has not exited.
inline int __all_sync(unsigned mask, int predicate, std::source_location site = std::source_location::current()) {
  return int(dgemu::warp_exchange(dgemu::WarpOp::all, mask, predicate != 0, 4, 0, warpSize, site));
}

// ---- atomics ----
// Fibers switch only inside the synchronizing calls above and blocks run one at a time, so a
// plain read-modify-write is atomic with respect to every other emulated thread.
template <class T>
inline T dgemu_atomic_update(T* address, T value, T (*f)(T, T)) {
  const T old = *address;
  *address = f(old, value);
  return old;
}
inline float atomicAdd(float* a, float v) { return dgemu_atomic_update<float>(a, v, [](float x, float y) { return x + y; }); }
inline double atomicAdd(double* a, double v) {
  return dgemu_atomic_update<double>(a, v, [](double x, double y) { return x + y; });
}
inline int atomicAdd(int* a, int v) {
  return dgemu_atomic_update<int>(a, v, [](int x, int y) { return int(unsigned(x) + unsigned(y)); });
}
inline unsigned atomicAdd(unsigned* a, unsigned v) {
  return dgemu_atomic_update<unsigned>(a, v, [](unsigned x, unsigned y) { return x + y; });
}
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  return dgemu_atomic_update<unsigned long long>(a, v, [](unsigned long long x, unsigned long long y) { return x + y; });
}
inline int atomicSub(int* a, int v) {
  return dgemu_atomic_update<int>(a, v, [](int x, int y) { return int(unsigned(x) - unsigned(y)); });
}
inline unsigned atomicSub(unsigned* a, unsigned v) {
  return dgemu_atomic_update<unsigned>(a, v, [](unsigned x, unsigned y) { return x - y; });
}
inline int atomicMax(int* a, int v) { return dgemu_atomic_update<int>(a, v, [](int x, int y) { return x > y ? x : y; }); }
inline unsigned atomicMax(unsigned* a, unsigned v) {
  return dgemu_atomic_update<unsigned>(a, v, [](unsigned x, unsigned y) { return x > y ? x : y; });
}
inline int atomicMin(int* a, int v) { return dgemu_atomic_update<int>(a, v, [](int x, int y) { return x < y ? x : y; }); }
inline unsigned atomicMin(unsigned* a, unsigned v) {
  return dgemu_atomic_update<unsigned>(a, v, [](unsigned x, unsigned y) { return x < y ? x : y; });
}
inline int atomicExch(int* a, int v) { return dgemu_atomic_update<int>(a, v, [](int, int y) { return y; }); }
inline unsigned atomicExch(unsigned* a, unsigned v) {
  return dgemu_atomic_update<unsigned>(a, v, [](unsigned, unsigned y) { return y; });
}
inline float atomicExch(float* a, float v) { return dgemu_atomic_update<float>(a, v, [](float, float y) { return y; }); }
inline int atomicOr(int* a, int v) { return dgemu_atomic_update<int>(a, v, [](int x, int y) { return x | y; }); }
inline unsigned atomicOr(unsigned* a, unsigned v) {
  return dgemu_atomic_update<unsigned>(a, v, [](unsigned x, unsigned y) { return x | y; });
}
inline int atomicCAS(int* a, int compare, int v) {
  const int old = *a;
  if (old == compare) *a = v;
  return old;
}
inline unsigned atomicCAS(unsigned* a, unsigned compare, unsigned v) {
  const unsigned old = *a;
  if (old == compare) *a = v;
  return old;
}
inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long compare, unsigned long long v) {
  const unsigned long long old = *a;
  if (old == compare) *a = v;
  return old;
}

// ---- intrinsics with their rounding ----
// The _rn forms round to nearest even, the host's IEEE default, one operation at a time: dg
// builds with -ffp-contract=off, so no product and sum here is ever fused into an fma.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline float __saturatef(float x) { return x != x ? 0.0f : x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }

// Dynamic shared memory (the launch's third parameter): kernels spell it DG_DYNAMIC_SHARED
// (kernels/launch.cuh), which is `extern __shared__ T name[]` under nvcc.
#define DGEMU_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::dgemu::dynamic_shared())
