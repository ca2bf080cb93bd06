// The shape of a training step's cost on the CUDA backend, from the op shapes: a MODEL, not a
// measurement (issue: the GPU step as one CUDA graph). For one GanTrainer step of ONE process
// (K discriminators, any --g-loss, batch B; --sync-bn takes the split batchnorm kernels; with
// several ranks the NCCL collectives, the global means' BCE and max-sample's averaging are not
// counted):
//   launches  kernels, copies and library calls dg queues, counted op by op as the trainer and
//             the CUDA bodies issue them (a cuDNN call counts 1; cuDNN may run more kernels).
//             tests/test_gpu_graph.cpp holds this count equal to the nodes of the step's
//             captured graph under the emulator;
//   bytes     each tensor an op reads or writes, once per op (a lower bound: the fused
//             batchnorm reads its input up to three times, mostly from L2);
//   flops     the convolutions' multiply-adds x 2, forward, backward-data and backward-filter,
//             as the step runs them (the other ops' arithmetic is left out).
// A modelled step time for a device from its limits: flops / matrix rate + bytes / memory
// bandwidth + launches x a per-launch cost (no overlap: a pessimistic sum).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/gan_trainer.h"

namespace dg {

struct StepModel {
  int64_t launches = 0;
  double bytes = 0, flops = 0;
};
StepModel model_step(const TrainConfig& cfg);

struct DeviceModel {
  std::string name;
  double tf32_tflop_s = 0;     // dense TF32 tensor-core rate
  double hbm_tb_s = 0;         // memory bandwidth, bytes read + written
  double graph_launch_us = 0;  // per node of a replayed CUDA graph (assumed)
  double stream_launch_us = 0; // per launch queued one by one (assumed)
  std::string source;          // where the figures come from
};
// h100, h200: the figures and their sources are in step_model.cpp.
const std::vector<DeviceModel>& device_models();
// Milliseconds: flops / rate + bytes / bandwidth + launches x per-launch cost.
double model_ms(const StepModel& m, const DeviceModel& d, bool graph);

}  // namespace dg
