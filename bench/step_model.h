// The shape of a training step's cost on the CUDA backend, from the op shapes: a MODEL, not a
// measurement (issue: the GPU step as one CUDA graph). For one GanTrainer step of ONE process
// (K discriminators, any --g-loss, batch B; --sync-bn takes the split batchnorm kernels; with
// several ranks the NCCL collectives, the global means' BCE and max-sample's averaging are not
// counted):
//   launches  kernels, copies and library calls that run, counted op by op as the trainer and
//             the CUDA bodies issue them (a cuDNN call counts 1; cuDNN may run more kernels):
//             queued one by one (graph = false), or as a graph replay runs them (graph = true:
//             the conditional nodes' bodies that run included, under `max` and `seed` one D's
//             backward in the G step; under max-sample all K, an upper bound);
//   nodes     graph = true: the captured graph's own nodes (a conditional node counts 1, its
//             body's work none). tests/test_gpu_graph.cpp holds both counts equal to the
//             emulator's (cudaGraphGetNodes, and the nodes a replay ran);
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
  int64_t launches = 0, nodes = 0;
  double bytes = 0, flops = 0;
};
StepModel model_step(const TrainConfig& cfg, bool graph);

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
// Milliseconds: flops / rate + bytes / bandwidth + launches x per-launch cost, of
// model_step(cfg, graph).
double model_ms(const TrainConfig& cfg, const DeviceModel& d, bool graph);

}  // namespace dg
