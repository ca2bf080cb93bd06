// Communicator: the collectives of data-parallel training (DESIGN §8), one process per
// device. Three implementations:
//   single process  world size 1, every collective is the identity (no copies, no calls)
//   MPI             host buffers (the CPU backend): the distributed path, testable in CI
//   NCCL            device buffers on the context's stream (the CUDA backend); the NCCL
//                   unique id and the host-side control values travel by MPI (the host
//                   communicator it is made with)
// Promise of every implementation: after a collective, every rank holds the same bits
// (the MPI one reduces to rank 0, then broadcasts; NCCL's ring leaves the same values on
// every rank), so parameters updated from averaged gradients never drift apart.
//
// Device-side collectives take the Context whose device holds the buffer; on CUDA they run
// on the communicator's own stream, ordered after the work enqueued so far on the context's
// stream, which waits for them (no host synchronization). Host-side control values (a stop
// signal, a resumed step, config text) go through MPI on the host.
//
// Gradient buckets (DESIGN §8, DDP-style): start_mean() returns at once and the mean runs
// beside the compute that follows (on CUDA: on the communication stream, overlapping the
// rest of the backward); finish_means() is where the compute waits for every started one.
// Collectives of both kinds may interleave; every rank must issue the same sequence.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "engine/context.h"
#include "engine/tensor.h"

namespace dg {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual const char* name() const = 0;  // "single process", "MPI", "NCCL"
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  bool is_root() const { return rank() == 0; }

  // t (floats on ctx's device) <- the mean of t over the ranks (and every started mean done).
  void all_reduce_mean(Context& ctx, Tensor t) {
    start_mean(ctx, t);
    finish_means(ctx);
  }
  // values (n doubles on ctx's device) <- their sum over the ranks (sync-BN channel sums).
  virtual void all_reduce_sum(Context& ctx, double* values, int64_t n) = 0;
  // t <- rank root's t.
  virtual void broadcast(Context& ctx, Tensor t, int root) = 0;

  // Starts t <- the mean of t over the ranks; t must be left alone until finish_means().
  virtual void start_mean(Context& ctx, Tensor t) = 0;
  // Every mean started on ctx is complete before ctx's next operation.
  virtual void finish_means(Context& ctx) = 0;

  // Throws dg::Error when a collective queued earlier failed asynchronously (NCCL: the
  // communicator is then aborted). The other calls check too; a step replayed as a CUDA graph
  // makes none of them, so the trainer asks after every step. No synchronization.
  virtual void check_errors() {}

  // Host control values.
  virtual int64_t max_over_ranks(int64_t value) = 0;
  virtual void broadcast_host(void* data, size_t bytes, int root) = 0;
  void broadcast_text(std::string& text, int root);  // length, then bytes
};

// World size 1.
std::unique_ptr<Communicator> make_single_process_communicator();
// Over MPI_COMM_WORLD; MPI must be initialized (tools/run/distributed.h does it). The context
// must be a CPU one: this communicator reduces host memory. Throws in a build without MPI.
std::unique_ptr<Communicator> make_mpi_communicator();
// NCCL on ctx's device over the ranks of `host` (MPI, or the single-process communicator for
// one rank), which carries the NCCL unique id from rank 0 and the host control values; it
// must outlive the result. Throws in a build without NCCL.
std::unique_ptr<Communicator> make_nccl_communicator(Context& ctx, Communicator& host);

// Whether this build has MPI, and NCCL (with the CUDA backend).
bool mpi_built();
bool nccl_built();

}  // namespace dg
