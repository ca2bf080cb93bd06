// --device auto | cpu | cuda, as dgtrain, dgeval and dgbench all read it.
//
// cpu and cuda are taken as asked; cuda fails, saying why, when this build has no CUDA
// backend or no device is visible, and names the CUDA runtime's own error when it fails. auto
// takes the GPU when one is visible, else the CPU, and says why it fell back: a CUDA runtime
// that fails is named (never taken quietly for "no device"), no visible device and a build
// without CUDA are the ordinary cases. Each tool decides which of these it tells its user.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace dg {

struct DeviceChoice {
  Device device = Device::cpu;
  std::string cpu_because;      // auto fell back to the CPU: why ("" otherwise)
  bool runtime_failed = false;  // ... because the CUDA runtime failed (cpu_because is its error)
};

DeviceChoice choose_device(const std::string& want);

}  // namespace dg
