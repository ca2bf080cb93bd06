// The NCCL communicator: device collectives on a communication stream beside the context's,
// one process per GPU. Rank 0 creates the NCCL unique id and the host communicator (MPI; the
// single-process one for a world of one) broadcasts it to the others; host control values
// (stop signals, the resumed step, config text) go through the host communicator as well. No
// MPI here: a one-rank NCCL communicator (the GPU test) needs none.
// Collectives run on the communicator's own stream (high priority, so that a bucket's
// all-reduce starts while the backward's kernels keep the GPU busy): `ready_` orders them after
// the compute stream's work so far (the gradients they read), `done_` makes the compute
// stream wait for them. No host synchronization; every rank issues the same sequence (the
// trainer's contract), and one stream keeps NCCL's operations in that order.
//
// NCCL reports failures of queued collectives asynchronously (a peer gone, a network error):
// every host-side step of the communicator (finishing means, sums, broadcasts) asks
// ncclCommGetAsyncError, and on an error aborts the communicator (ncclCommAbort, which does not
// wait for the failed peers, where ncclCommDestroy could hang) and throws naming it.
#include <nccl.h>

#include <string>

#include "engine/comm/communicator.h"
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
  NcclCommunicator(Context& ctx, Communicator& host)
      : device_(ctx.cuda().device), rank_(host.rank()), size_(host.world_size()), host_(host) {
    try {
      ncclUniqueId id;
      if (rank_ == 0) DG_NCCL_CHECK(ncclGetUniqueId(&id));
      host_.broadcast_host(&id, sizeof id, 0);
      DG_CUDA_CHECK(cudaSetDevice(device_));
      int least = 0, greatest = 0;
      DG_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
      DG_CUDA_CHECK(cudaStreamCreateWithPriority(&stream_, cudaStreamNonBlocking, greatest));
      DG_CUDA_CHECK(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
      DG_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
      DG_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
    } catch (...) {
      release(false);  // a throwing constructor runs no destructor
      throw;
    }
  }
  ~NcclCommunicator() override {
    ncclResult_t async = ncclSuccess;
    const bool healthy = !comm_ || (ncclCommGetAsyncError(comm_, &async) == ncclSuccess && async == ncclSuccess);
    release(healthy);
  }
  const char* name() const override { return "NCCL"; }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }

  void start_mean(Context& ctx, Tensor t) override {
    if (t.numel() == 0) return;
    check_async_error();
    DG_NCCL_CHECK(ncclAllReduce(t.data, t.data, size_t(t.numel()), ncclFloat, ncclAvg, comm_, after_compute(ctx)));
    pending_ = true;
  }
  void finish_means(Context& ctx) override {
    if (!pending_) return;
    compute_waits(ctx);
    pending_ = false;
    check_async_error();
  }
  void all_reduce_sum(Context& ctx, double* values, int64_t n) override {
    if (n == 0) return;
    DG_NCCL_CHECK(ncclAllReduce(values, values, size_t(n), ncclDouble, ncclSum, comm_, after_compute(ctx)));
    compute_waits(ctx);
    check_async_error();
  }
  void broadcast(Context& ctx, Tensor t, int root) override {
    if (t.numel() == 0) return;
    DG_NCCL_CHECK(ncclBroadcast(t.data, t.data, size_t(t.numel()), ncclFloat, root, comm_, after_compute(ctx)));
    compute_waits(ctx);
    check_async_error();
  }

  void check_errors() override { check_async_error(); }

  int64_t max_over_ranks(int64_t value) override { return host_.max_over_ranks(value); }
  void broadcast_host(void* data, size_t bytes, int root) override { host_.broadcast_host(data, bytes, root); }

 private:
  // An asynchronous failure of a queued collective: abort the communicator, then throw.
  void check_async_error() {
    DG_CHECK(comm_ != nullptr, "the NCCL communicator was aborted after an earlier error");
    ncclResult_t async = ncclSuccess;
    DG_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async));
    if (async == ncclSuccess) return;
    const std::string detail = ncclGetLastError(comm_);
    ncclCommAbort(comm_);
    comm_ = nullptr;
    DG_FAIL("NCCL failed on rank ", rank_, " of ", size_, ": ", ncclGetErrorString(async),
            detail.empty() ? "" : " (" + detail + ")", "; the communicator is aborted");
  }
  // Frees what was made; a communicator that failed is aborted, not destroyed (which would
  // wait for collectives that will never finish).
  void release(bool healthy) {
    if (comm_) healthy ? ncclCommDestroy(comm_) : ncclCommAbort(comm_);
    if (done_) cudaEventDestroy(done_);
    if (ready_) cudaEventDestroy(ready_);
    if (stream_) cudaStreamDestroy(stream_);
    comm_ = nullptr;
    done_ = ready_ = nullptr;
    stream_ = nullptr;
  }
  // The communication stream, after the work enqueued so far on ctx's stream.
  cudaStream_t after_compute(Context& ctx) {
    DG_CHECK(comm_ != nullptr, "the NCCL communicator was aborted after an earlier error");
    DG_CHECK(ctx.on_cuda() && ctx.cuda().device == device_, "the NCCL communicator of CUDA device ", device_,
             " was handed a buffer of another device");
    DG_CUDA_CHECK(cudaEventRecord(ready_, ctx.cuda().stream));
    DG_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_, 0));
    return stream_;
  }
  // ctx's stream continues after everything enqueued on the communication stream.
  void compute_waits(Context& ctx) {
    DG_CUDA_CHECK(cudaEventRecord(done_, stream_));
    DG_CUDA_CHECK(cudaStreamWaitEvent(ctx.cuda().stream, done_, 0));
  }
  int device_ = 0, rank_ = 0, size_ = 1;
  Communicator& host_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr, done_ = nullptr;
  bool pending_ = false;  // means started since the last finish_means()
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Context& ctx, Communicator& host) {
  return std::make_unique<NcclCommunicator>(ctx, host);
}

}  // namespace dg
