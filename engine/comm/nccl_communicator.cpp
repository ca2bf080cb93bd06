// The NCCL communicator: device collectives on the context's CUDA stream, one process per
// GPU. Rank 0 creates the NCCL unique id and MPI broadcasts it to the others; host control
// values (stop signals, the resumed step, config text) go through MPI as well.
// Collectives are enqueued on the compute stream, in the order the step issues them: no
// host synchronization, and every rank issues the same sequence (the trainer's contract).
#include <climits>
#include <mpi.h>
#include <nccl.h>

#include "engine/comm/communicator.h"
#include "engine/comm/mpi_check.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"

#define DG_NCCL_CHECK(call)                                                                   \
  do {                                                                                        \
    ncclResult_t dg_nccl_rc_ = (call);                                                        \
    if (dg_nccl_rc_ != ncclSuccess) ::dg::fail_at(__FILE__, __LINE__, #call, ": ", ncclGetErrorString(dg_nccl_rc_)); \
  } while (0)

namespace dg {

bool nccl_built() { return true; }

namespace {

class NcclCommunicator final : public Communicator {
 public:
  explicit NcclCommunicator(Context& ctx) : device_(ctx.cuda().device) {
    int initialized = 0;
    DG_MPI_CHECK(MPI_Initialized(&initialized));
    DG_CHECK(initialized, "the NCCL communicator needs MPI_Init first (tools/distributed.h)");
    DG_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    DG_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
    ncclUniqueId id;
    if (rank_ == 0) DG_NCCL_CHECK(ncclGetUniqueId(&id));
    DG_MPI_CHECK(MPI_Bcast(&id, int(sizeof id), MPI_BYTE, 0, MPI_COMM_WORLD));
    DG_CUDA_CHECK(cudaSetDevice(device_));
    DG_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
  }
  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);
  }
  const char* name() const override { return "NCCL"; }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }

  void all_reduce_mean(Context& ctx, Tensor t) override {
    if (t.numel() == 0) return;
    DG_NCCL_CHECK(ncclAllReduce(t.data, t.data, size_t(t.numel()), ncclFloat, ncclAvg, comm_, stream(ctx)));
  }
  void all_reduce_sum(Context& ctx, double* values, int64_t n) override {
    if (n == 0) return;
    DG_NCCL_CHECK(ncclAllReduce(values, values, size_t(n), ncclDouble, ncclSum, comm_, stream(ctx)));
  }
  void broadcast(Context& ctx, Tensor t, int root) override {
    if (t.numel() == 0) return;
    DG_NCCL_CHECK(ncclBroadcast(t.data, t.data, size_t(t.numel()), ncclFloat, root, comm_, stream(ctx)));
  }

  int64_t max_over_ranks(int64_t value) override {
    int64_t out = 0;
    DG_MPI_CHECK(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD));
    return out;
  }
  void broadcast_host(void* data, size_t bytes, int root) override {
    DG_CHECK(bytes <= size_t(INT_MAX), "broadcast_host: ", bytes, " bytes exceed MPI's int count");
    if (bytes > 0) DG_MPI_CHECK(MPI_Bcast(data, int(bytes), MPI_BYTE, root, MPI_COMM_WORLD));
  }

 private:
  cudaStream_t stream(Context& ctx) const {
    DG_CHECK(ctx.on_cuda() && ctx.cuda().device == device_, "the NCCL communicator of CUDA device ", device_,
             " was handed a buffer of another device");
    return ctx.cuda().stream;
  }
  int device_ = 0, rank_ = 0, size_ = 1;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Context& ctx) { return std::make_unique<NcclCommunicator>(ctx); }

}  // namespace dg
