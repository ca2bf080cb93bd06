// The single-process communicator, and the factories of the ones this build lacks.
#include "engine/comm/communicator.h"
#include "engine/error.h"

namespace dg {

void Communicator::broadcast_text(std::string& text, int root) {
  uint64_t size = text.size();
  broadcast_host(&size, sizeof size, root);
  text.resize(size_t(size));
  if (size > 0) broadcast_host(text.data(), size_t(size), root);
}

namespace {

class SingleProcess final : public Communicator {
 public:
  const char* name() const override { return "single process"; }
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(Context&, double*, int64_t) override {}
  void broadcast(Context&, Tensor, int) override {}
  void start_mean(Context&, Tensor) override {}
  void finish_means(Context&) override {}
  int64_t max_over_ranks(int64_t value) override { return value; }
  void broadcast_host(void*, size_t, int) override {}
};

}  // namespace

std::unique_ptr<Communicator> make_single_process_communicator() { return std::make_unique<SingleProcess>(); }

#ifndef DG_HAVE_MPI
bool mpi_built() { return false; }
std::unique_ptr<Communicator> make_mpi_communicator() {
  DG_FAIL("this dg was built without MPI (install libopenmpi-dev and configure again): no multi-process training");
}
#endif

#ifndef DG_HAVE_NCCL
bool nccl_built() { return false; }
std::unique_ptr<Communicator> make_nccl_communicator(Context&, Communicator&) {
  DG_FAIL("this dg was built without NCCL (it needs the CUDA backend and NCCL): no multi-GPU training");
}
#endif

}  // namespace dg
