// dgbench allreduce: the gradient all-reduce of data-parallel training, timed with the
// communicator dgtrain uses (NCCL on GPUs, MPI on the CPU) on buffers the size of each
// network's flat gradient buffer. Launched like dgtrain: `mpirun -np N dgbench allreduce`.
// Feeds bench/SCALING.md: the measured time per net, and the bus bandwidth in the
// nccl-tests convention, busbw = bytes / time * 2 (N - 1) / N (what each link carries in a
// ring all-reduce), to compare with the link's bandwidth.
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

}  // namespace dg
