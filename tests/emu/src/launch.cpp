// Kernel launch checks (CUDA C++ Programming Guide, "Execution Configuration" and the compute
// capability 9.0 limits; a pointer argument must be null or point into device memory, or into
// pinned host memory, which unified addressing lets kernels reach), then the kernel joins its
// stream's queue. A failed check is a launch
// error, reported by the next cudaGetLastError with what was wrong (DG_CUDA_CHECK_LAUNCH then
// names the launch site); it is not sticky.
#include <string>

#include "emu.h"

namespace dgemu {

namespace {
constexpr unsigned kMaxThreads = 1024;
constexpr size_t kMaxSharedBytes = 48 << 10;  // without cudaFuncSetAttribute's opt-in

std::string dims(dim3 d) { return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")"; }
}  // namespace

cudaError_t launch_kernel(const KernelSite& site, dim3 grid, dim3 block, size_t shmem_bytes, cudaStream_t stream,
                          const std::vector<PointerArg>& pointers, std::function<void()> body) {
  Lock lock(device_mutex());
  const std::string name = std::string("kernel ") + site.kernel + " at " + site.file + ":" + std::to_string(site.line);
  Stream* s = stream_of(stream, site.kernel);
  if (!s) return cudaErrorInvalidResourceHandle;
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (block.x == 0 || block.y == 0 || block.z == 0 || block.x > kMaxThreads || block.y > kMaxThreads || block.z > 64 ||
      threads > kMaxThreads)
    return fail(cudaErrorInvalidConfiguration, name + ": block " + dims(block) + " (" + std::to_string(threads) +
                                                   " threads; at most 1024, x and y <= 1024, z <= 64)");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
    return fail(cudaErrorInvalidConfiguration, name + ": grid " + dims(grid) + " (x in 1..2^31-1, y and z in 1..65535)");
  if (uint64_t(grid.x) * grid.y * grid.z > 0x7fffffffu)
    return fail(cudaErrorInvalidConfiguration, name + ": grid " + dims(grid) + " has more blocks than the emulator runs");
  // Dynamic shared memory alone: the emulator cannot tell the kernels' __shared__ variables
  // apart (they share one section), so each kernel's static size is checked by ptxas in CI
  // (nvcc --resource-usage, tools/kernel_resources.py).
  if (shmem_bytes > kMaxSharedBytes)
    return fail(cudaErrorInvalidValue, name + ": " + std::to_string(shmem_bytes) +
                                           " bytes of dynamic shared memory, more than 48 KB");
  for (const PointerArg& a : pointers) {
    if (!a.p) continue;
    if (std::string why = check_device_range(a.p, 0, true); !why.empty())
      return fail(cudaErrorInvalidValue, name + ": argument " + std::to_string(a.index + 1) + ": " + why);
  }
  return enqueue(s, name, [site, grid, block, shmem_bytes, body = std::move(body)] {
    run_grid(site, grid, block, shmem_bytes, body);
  });
}

}  // namespace dgemu
