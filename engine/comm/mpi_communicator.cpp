// The MPI communicator: collectives on host memory over MPI_COMM_WORLD, for the CPU backend.
//
// A mean is a reduce to rank 0, a division there and a broadcast, not one MPI_Allreduce:
// MPI allows (and OpenMPI's recursive doubling does) an all-reduce whose float sums differ
// in the last bit from rank to rank, and ranks whose averaged gradients differ by a bit have
// weights that drift apart. Reduce + broadcast costs about twice the time of a good
// all-reduce; the CPU path is for testing and small runs, where that does not matter.
// Both halves are non-blocking collectives: start_mean() starts the reduce (the gradient
// buckets of a backward), finish_means() waits for the reduces, divides and broadcasts.
#include <climits>
#include <mpi.h>

#include <vector>

#include "engine/comm/communicator.h"
#include "engine/comm/mpi_check.h"

namespace dg {

bool mpi_built() { return true; }

namespace {

int count_of(int64_t n, const char* what) {
  DG_CHECK(n >= 0 && n <= INT_MAX, "MPI ", what, ": ", n, " elements exceed MPI's int count");
  return int(n);
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    DG_MPI_CHECK(MPI_Initialized(&initialized));
    DG_CHECK(initialized, "the MPI communicator needs MPI_Init first (tools/run/distributed.h)");
    DG_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    DG_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  }
  const char* name() const override { return "MPI"; }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }

  // Non-blocking reduce to rank 0 now; rank 0's division and the broadcast in finish_means().
  void start_mean(Context& ctx, Tensor t) override {
    host_only(ctx, "start_mean");
    const int n = count_of(t.numel(), "start_mean");
    if (n == 0) return;
    MPI_Request req = MPI_REQUEST_NULL;
    if (rank_ == 0)
      DG_MPI_CHECK(MPI_Ireduce(MPI_IN_PLACE, t.data, n, MPI_FLOAT, MPI_SUM, 0, MPI_COMM_WORLD, &req));
    else
      DG_MPI_CHECK(MPI_Ireduce(t.data, nullptr, n, MPI_FLOAT, MPI_SUM, 0, MPI_COMM_WORLD, &req));
    pending_.push_back({t.data, n});
    reduces_.push_back(req);
    // MPI progresses non-blocking collectives inside MPI calls: give the started ones a turn.
    int done = 0;
    DG_MPI_CHECK(MPI_Testall(int(reduces_.size()), reduces_.data(), &done, MPI_STATUSES_IGNORE));
  }

  void finish_means(Context& ctx) override {
    host_only(ctx, "finish_means");
    if (pending_.empty()) return;
    DG_MPI_CHECK(MPI_Waitall(int(reduces_.size()), reduces_.data(), MPI_STATUSES_IGNORE));
    std::vector<MPI_Request> bcasts(pending_.size());
    for (size_t i = 0; i < pending_.size(); i++) {
      const Pending& p = pending_[i];
      if (rank_ == 0)
        for (int j = 0; j < p.n; j++) p.data[j] /= float(size_);
      DG_MPI_CHECK(MPI_Ibcast(p.data, p.n, MPI_FLOAT, 0, MPI_COMM_WORLD, &bcasts[i]));
    }
    DG_MPI_CHECK(MPI_Waitall(int(bcasts.size()), bcasts.data(), MPI_STATUSES_IGNORE));
    pending_.clear();
    reduces_.clear();
  }

  void all_reduce_sum(Context& ctx, double* values, int64_t n64) override {
    host_only(ctx, "all_reduce_sum");
    const int n = count_of(n64, "all_reduce_sum");
    if (n == 0) return;
    if (rank_ == 0)
      DG_MPI_CHECK(MPI_Reduce(MPI_IN_PLACE, values, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
    else
      DG_MPI_CHECK(MPI_Reduce(values, nullptr, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
    DG_MPI_CHECK(MPI_Bcast(values, n, MPI_DOUBLE, 0, MPI_COMM_WORLD));
  }

  void broadcast(Context& ctx, Tensor t, int root) override {
    host_only(ctx, "broadcast");
    const int n = count_of(t.numel(), "broadcast");
    if (n > 0) DG_MPI_CHECK(MPI_Bcast(t.data, n, MPI_FLOAT, root, MPI_COMM_WORLD));
  }

  int64_t max_over_ranks(int64_t value) override {
    int64_t out = 0;
    DG_MPI_CHECK(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD));
    return out;
  }

  void broadcast_host(void* data, size_t bytes, int root) override {
    const int n = count_of(int64_t(bytes), "broadcast_host");
    if (n > 0) DG_MPI_CHECK(MPI_Bcast(data, n, MPI_BYTE, root, MPI_COMM_WORLD));
  }

 private:
  static void host_only(Context& ctx, const char* what) {
    DG_CHECK(!ctx.on_cuda(), "the MPI communicator's ", what,
             " reduces host memory: a CUDA context needs the NCCL communicator");
  }
  int rank_ = 0, size_ = 1;
  struct Pending {
    float* data;
    int n;
  };
  std::vector<Pending> pending_;        // started means, in order
  std::vector<MPI_Request> reduces_;   // their reduces
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace dg
