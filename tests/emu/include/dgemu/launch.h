// Kernel launches in the emulator: DG_LAUNCH (kernels/launch.cuh) calls dgemu::launch, which
// converts the arguments to the kernel's parameter types as a call would, checks the launch
// (tests/emu/src/launch.cpp) and queues the kernel on its stream. A pointer argument must be
// null or point into a live device (or pinned host) allocation.
#pragma once
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace dgemu {

struct KernelSite {
  const char* kernel;  // the kernel's name as written at the launch
  const char* file;    // where it was launched
  int line;
};
struct PointerArg {
  int index;  // 0-based position among the kernel's parameters
  const void* p;
};

cudaError_t launch_kernel(const KernelSite& site, dim3 grid, dim3 block, size_t shmem_bytes, cudaStream_t stream,
                          const std::vector<PointerArg>& pointers, std::function<void()> body);

template <class T>
void note_pointer(std::vector<PointerArg>& out, int index, const T& value) {
  if constexpr (std::is_pointer_v<T> && !std::is_function_v<std::remove_pointer_t<T>>)
    out.push_back({index, const_cast<const void*>(static_cast<const volatile void*>(value))});
}

template <class... Params, class... Args>
cudaError_t launch(const KernelSite& site, void (*kernel)(Params...), dim3 grid, dim3 block, size_t shmem_bytes,
                   cudaStream_t stream, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "kernel launched with the wrong number of arguments");
  std::tuple<std::remove_cvref_t<Params>...> values(std::forward<Args>(args)...);
  std::vector<PointerArg> pointers;
  std::apply([&](const auto&... v) {
    int i = 0;
    (note_pointer(pointers, i++, v), ...);
  }, values);
  return launch_kernel(site, grid, block, shmem_bytes, stream, pointers,
                       [kernel, values]() { std::apply(kernel, values); });
}

}  // namespace dgemu
