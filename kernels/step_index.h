// Which training step an op belongs to: a number the host gives, or one the op reads when it
// runs (a CUDA graph captured once and replayed each step reads each replay's step, not the
// capture's: issue "the GPU step as one CUDA graph").
#pragma once
#include <cstdint>

#include "kernels/host_device.h"

namespace dg {

struct StepIndex {
  int64_t index = 0;              // 0-based, when `done` is null
  const int64_t* done = nullptr;  // else the count of completed steps, in memory of the op's
                                  // device (device memory on CUDA), read as the op runs
  StepIndex() = default;
  explicit StepIndex(int64_t i) : index(i) {}
  static StepIndex counted(const int64_t* done) {
    StepIndex s;
    s.done = done;
    return s;
  }
  DG_HD int64_t value() const { return done ? *done : index; }
};

}  // namespace dg
