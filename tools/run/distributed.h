// dgtrain as several processes (DESIGN §8): `mpirun -np N dgtrain ...` or `srun dgtrain ...`.
//
// Distributed starts MPI when the process was launched as one of several ranks (the
// launcher's environment says so) and this dg has MPI; it knows the rank, the world size
// and the local rank (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)), which picks the GPU. After
// the device context exists, connect() makes the communicator the trainer reduces with:
// NCCL on the GPU, MPI on the CPU, or the single-process one. Host-side agreements (a
// checkpoint's success, the resumed run's config) go through the host communicator (MPI, or
// the single-process one): all_ok(), share_json().
//
// A dg built without MPI that is launched as several ranks runs rank 0 alone, as a single
// process, and every rank says so; the other ranks exit at once (idle()).
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/comm/communicator.h"
#include "models/gan_trainer.h"

namespace dg {

class Distributed {
 public:
  Distributed();   // MPI_Init when launched as several ranks (and built with MPI)
  ~Distributed();  // MPI_Finalize
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  bool is_root() const { return rank_ == 0; }
  // A rank of a multi-rank launch that this build (no MPI) cannot join: it should exit.
  bool idle() const { return idle_; }
  // Said once by rank 0 at start: "2 ranks (MPI), gradients averaged by NCCL, ...".
  std::string describe() const;

  // The CUDA device of this rank: local rank modulo the visible devices (srun may give
  // each rank one device of its own). Fails when a node holds more ranks than devices.
  int cuda_device() const;
  // The communicator for ctx's device; the trainer reduces with it. Collective.
  Communicator& connect(Context& ctx);

  // The resumed run's config.json, read by rank 0 and handed to every rank.
  nlohmann::json share_json(const nlohmann::json& on_root);
  // Every rank agrees: true when `ok` on every rank.
  bool all_ok(bool ok) { return host_->max_over_ranks(ok ? 0 : 1) == 0; }

  // After an error on this rank: ends every rank (MPI_Abort) so that none waits forever in
  // a collective. Returns (single process) when there is nothing to abort.
  void abort_others(int code);

 private:
  int rank_ = 0, world_size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool mpi_started_ = false, idle_ = false;
  std::string launcher_;  // "mpirun", "srun", ... ("" for a plain start)
  std::unique_ptr<Communicator> host_, device_;
  Communicator* trainer_comm_ = nullptr;
};

// What the launcher put in the environment (Open MPI's mpirun, PMIx, PMI, srun): its name,
// this process's rank and the world size; world size 1 when nothing launched us.
struct LaunchEnv {
  std::string launcher;
  int rank = 0, world_size = 1;
};
LaunchEnv launch_env();
// What a build without MPI says when launched as several ranks (every rank says it).
std::string without_mpi_notice(const LaunchEnv& env);

constexpr double kMiB = 1024.0 * 1024.0;  // --grad-bucket-mb and config.json's grad_bucket_mb are in MiB

// config.json's "world_size", "sync_bn" and "grad_bucket_mb": written by a run, checked and
// read back on resume (a run resumes with the world size it was trained with: the batch per
// rank, the shards and the noise rows depend on it; with more than 2 ranks the bucket bounds
// decide NCCL's summation order, so a bit-exact resume keeps them too).
void record_distributed_settings(nlohmann::json& config, const TrainConfig& train, const Distributed& dist);
void check_distributed_settings(const nlohmann::json& saved, const Distributed& dist, TrainConfig& train);

}  // namespace dg
