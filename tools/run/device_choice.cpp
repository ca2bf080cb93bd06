#include "tools/run/device_choice.h"

#include "engine/context.h"
#include "engine/error.h"

namespace dg {

DeviceChoice choose_device(const std::string& want) {
  if (want == "cpu") return {Device::cpu, "", false};
  if (want == "cuda") {
    DG_CHECK(cuda_built(), "--device cuda: this dg was built without the CUDA backend (no nvcc at configure time)");
    DG_CHECK(cuda_available(), "--device cuda: no CUDA device is visible");  // (a failing runtime throws its error)
    return {Device::cuda, "", false};
  }
  // auto (the flags allow nothing else; a hand-edited config.json's other word reads as auto)
  try {
    if (cuda_available()) return {Device::cuda, "", false};
  } catch (const Error& e) {  // a broken CUDA runtime: the caller says so, then works where it can
    return {Device::cpu, e.what(), true};
  }
  return {Device::cpu, cuda_built() ? "no CUDA device visible" : "built without CUDA", false};
}

}  // namespace dg
