#include "tools/run/distributed.h"

#include <cstdio>
#include <cstdlib>

#ifdef DG_HAVE_MPI
#include <mpi.h>

#include "engine/comm/mpi_check.h"
#endif

namespace dg {

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

}  // namespace

LaunchEnv launch_env() {
  struct Names {
    const char *launcher, *size, *rank;
  };
  for (const Names& n : {Names{"mpirun (Open MPI)", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},
                         Names{"PMIx", "PMIX_SIZE", "PMIX_RANK"}, Names{"PMI (MPICH, srun)", "PMI_SIZE", "PMI_RANK"},
                         Names{"srun", "SLURM_STEP_NUM_TASKS", "SLURM_PROCID"}}) {
    const int size = env_int(n.size, 0);
    if (size >= 1) return {n.launcher, env_int(n.rank, 0), size};
  }
  return {};
}

std::string without_mpi_notice(const LaunchEnv& env) {
  return "dgtrain: launched by " + env.launcher + " as rank " + std::to_string(env.rank) + " of " +
         std::to_string(env.world_size) +
         ", but this dg was built without MPI (install libopenmpi-dev and configure again): " +
         (env.rank == 0 ? "training as a single process" : "this rank does nothing and exits");
}

Distributed::Distributed() {
  const LaunchEnv env = launch_env();
  launcher_ = env.launcher;
  if (env.world_size > 1) {
#ifdef DG_HAVE_MPI
    DG_MPI_CHECK(MPI_Init(nullptr, nullptr));
    mpi_started_ = true;
    DG_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    DG_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    DG_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_size_));
    MPI_Comm local;
    DG_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local));
    DG_MPI_CHECK(MPI_Comm_rank(local, &local_rank_));
    DG_MPI_CHECK(MPI_Comm_size(local, &local_size_));
    DG_MPI_CHECK(MPI_Comm_free(&local));
    host_ = make_mpi_communicator();
#else
    // No MPI: the ranks cannot talk. Rank 0 trains alone; the others stand aside.
    std::fprintf(stderr, "%s\n", without_mpi_notice(env).c_str());
    idle_ = env.rank != 0;
#endif
  }
  if (!host_) host_ = make_single_process_communicator();
}

Distributed::~Distributed() {
  device_.reset();  // NCCL's communicator before MPI goes
  host_.reset();
#ifdef DG_HAVE_MPI
  if (mpi_started_) MPI_Finalize();
#endif
}

void Distributed::abort_others(int code) {
#ifdef DG_HAVE_MPI
  if (mpi_started_ && world_size_ > 1) {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
#endif
  (void)code;
}

int Distributed::cuda_device() const {
  const int n = cuda_device_count();
  if (n <= 0) return 0;  // the context reports the missing device
  DG_CHECK(local_size_ <= n, local_size_, " ranks run on this node but it has ", n,
           " visible CUDA device(s): launch at most one rank per GPU");
  return local_rank_ % n;
}

Communicator& Distributed::connect(Context& ctx) {
  if (world_size_ == 1) {
    trainer_comm_ = host_.get();
  } else if (ctx.on_cuda()) {
    DG_CHECK(nccl_built(), "dgtrain on ", world_size_, " GPUs needs NCCL, and this dg was built without it "
             "(configure with NCCL next to the CUDA toolkit, or set NCCL_ROOT); --device cpu trains through MPI");
    device_ = make_nccl_communicator(ctx, *host_);
    trainer_comm_ = device_.get();
  } else {
    trainer_comm_ = host_.get();  // the CPU backend reduces host memory through MPI
  }
  return *trainer_comm_;
}

std::string Distributed::describe() const {
  if (world_size_ == 1) return "";
  std::string what = std::to_string(world_size_) + " ranks (" + launcher_ + "), ";
  what += trainer_comm_ ? std::string("gradients averaged by ") + trainer_comm_->name() : "not connected";
  return what;
}

nlohmann::json Distributed::share_json(const nlohmann::json& on_root) {
  std::string text = is_root() ? on_root.dump() : "";
  host_->broadcast_text(text, 0);
  return is_root() ? on_root : nlohmann::json::parse(text);
}

void record_distributed_settings(nlohmann::json& config, const TrainConfig& train, const Distributed& dist) {
  config["world_size"] = dist.world_size();
  config["sync_bn"] = train.sync_bn;
  config["grad_bucket_mb"] = double(train.grad_bucket_bytes) / kMiB;
}

void check_distributed_settings(const nlohmann::json& saved, const Distributed& dist, TrainConfig& train) {
  const nlohmann::json ws = saved.value("world_size", nlohmann::json(1));
  DG_CHECK(ws.is_number_integer() && ws.get<int64_t>() >= 1 && ws.get<int64_t>() <= (int64_t(1) << 20),
           "config.json: world_size must be a positive integer, got ", ws.dump());
  const int64_t was = ws.get<int64_t>();
  DG_CHECK(was == dist.world_size(), "--resume: the run was trained on ", was, " rank(s) (config.json world_size) "
           "and this launch has ", dist.world_size(), ": resume it with the same number of ranks (",
           was == 1 ? std::string("a plain dgtrain") : "mpirun -np " + std::to_string(was) + " dgtrain",
           "); the batch per rank, the data shards and the noise rows depend on it");
  const nlohmann::json sync = saved.value("sync_bn", nlohmann::json(false));
  DG_CHECK(sync.is_boolean(), "config.json: sync_bn must be true or false, got ", sync.dump());
  train.sync_bn = sync.get<bool>();
  // Runs from before the buckets averaged each network in one piece after its backward.
  const nlohmann::json mb = saved.value("grad_bucket_mb", nlohmann::json(0.0));
  DG_CHECK(mb.is_number() && mb.get<double>() >= 0 && mb.get<double>() <= 1024,
           "config.json: grad_bucket_mb must be a number in [0, 1024], got ", mb.dump());
  train.grad_bucket_bytes = int64_t(mb.get<double>() * kMiB);
}

}  // namespace dg
