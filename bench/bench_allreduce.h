// dgbench allreduce: the gradient all-reduce of data-parallel training, timed with the
// communicator dgtrain uses (NCCL on GPUs, MPI on the CPU) on buffers the size of each
// network's flat gradient buffer. Launched like dgtrain: `mpirun -np N dgbench allreduce`.
// Feeds bench/SCALING.md: the measured time per net, and the bus bandwidth in the
// nccl-tests convention, busbw = bytes / time * 2 (N - 1) / N (what each link carries in a
// ring all-reduce), to compare with the link's bandwidth.
// Then whole training steps (dcgan, K = 2) three ways on every rank: alone (no
// communicator), with one mean per network after its backward, and with gradient buckets
// averaged during the backward (models/grad_buckets.h); what the all-reduces add to a step
// with and without overlap is the difference to the step alone.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/comm/communicator.h"

namespace dg {

struct AllreduceResult {
  std::string net;        // "dcgan64 G", "dcgan64 D"
  std::string comm;       // the communicator's name
  int world_size = 1;
  int64_t params = 0;     // floats reduced
  double median_ms = 0;   // one all-reduce (average) of the whole flat buffer
  double bus_gb_s = 0;    // bytes / time * 2 (N - 1) / N, 1e9
  nlohmann::json to_json() const;
};

// For each image size in `sizes`: G's and D's gradient buffers (dcgan, RGB, default widths),
// `repeats` timed all-reduces after 5 untimed ones; the median over repeats of the slowest
// rank's time (every rank reports it). Collective: every rank calls it.
void bench_allreduce(Context& ctx, Communicator& comm, const std::vector<int>& sizes, int repeats,
                     const std::function<void(const AllreduceResult&)>& report);

struct StepShareResult {
  std::string net;        // "dcgan64 K=2 B=64"
  std::string comm;
  int world_size = 1;
  double bucket_mb = 0;   // the bucket size of the overlapped run
  double alone_ms = 0, after_ms = 0, overlap_ms = 0;  // median step, the slowest rank's
  // (step - alone) / step: the share of a step the averaging costs, without / with overlap
  double after_share = 0, overlap_share = 0;
  nlohmann::json to_json() const;
};

// For each image size: a K = 2 dcgan step with per-rank batch `batch` (RGB), `warmup` untimed
// and `steps` timed steps in each of the three ways. Collective.
void bench_step_share(Context& ctx, Communicator& comm, const std::vector<int>& sizes, int batch, int warmup,
                      int steps, double bucket_mb, const std::function<void(const StepShareResult&)>& report);

}  // namespace dg
