// tools/run/distributed.h without a launcher (label cpu): what the environment of mpirun / srun
// says, what a build without MPI prints when launched as several ranks, and the world size
// and --sync-bn a resumed run must agree with. The multi-rank behaviour itself runs under
// mpirun in tests/test_dgtrain_mpi.cpp and tests/test_mpi_trainer.cpp (label mpi).
#include <doctest/doctest.h>

#include <cstdlib>

#include "tools/run/distributed.h"

using namespace dg;

namespace {
// Sets environment variables for one scope.
struct ScopedEnv {
  std::vector<std::string> names;
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [name, value] : vars) {
      setenv(name, value, 1);
      names.push_back(name);
    }
  }
  ~ScopedEnv() {
    for (const std::string& n : names) unsetenv(n.c_str());
  }
};
}  // namespace

TEST_CASE("the launcher's environment gives the rank and the world size") {
  CHECK(launch_env().world_size == 1);  // ctest starts us plainly
  {
    ScopedEnv env{{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_RANK", "3"}};
    const LaunchEnv e = launch_env();
    CHECK(e.world_size == 4);
    CHECK(e.rank == 3);
    CHECK(e.launcher.find("mpirun") != std::string::npos);
  }
  {
    ScopedEnv env{{"SLURM_STEP_NUM_TASKS", "16"}, {"SLURM_PROCID", "9"}};
    const LaunchEnv e = launch_env();
    CHECK(e.world_size == 16);
    CHECK(e.rank == 9);
    CHECK(e.launcher == "srun");
  }
}

TEST_CASE("a build without MPI says so on every rank and rank 0 trains alone") {
  const std::string rank0 = without_mpi_notice({"srun", 0, 8}), rank5 = without_mpi_notice({"srun", 5, 8});
  CHECK(rank0.find("rank 0 of 8") != std::string::npos);
  CHECK(rank0.find("built without MPI") != std::string::npos);
  CHECK(rank0.find("training as a single process") != std::string::npos);
  CHECK(rank5.find("does nothing and exits") != std::string::npos);
}

TEST_CASE("a resume must have the world size the run was trained with, and sync-BN and buckets come back") {
  Distributed alone;  // no launcher: one rank, no MPI started
  REQUIRE(alone.world_size() == 1);
  TrainConfig t;
  check_distributed_settings(nlohmann::json{{"data", "x"}}, alone, t);  // runs from before issue #7: 1 rank
  CHECK_FALSE(t.sync_bn);
  CHECK(t.grad_bucket_bytes == 0);  // they averaged each network after its backward
  check_distributed_settings(nlohmann::json{{"world_size", 1}, {"sync_bn", true}, {"grad_bucket_mb", 0.25}}, alone, t);
  CHECK(t.sync_bn);
  CHECK(t.grad_bucket_bytes == 262144);
  CHECK_THROWS_WITH_AS(check_distributed_settings(nlohmann::json{{"world_size", 8}}, alone, t),
                       doctest::Contains("trained on 8 rank(s) (config.json world_size) and this launch has 1"),
                       Error);
  CHECK_THROWS_WITH_AS(check_distributed_settings(nlohmann::json{{"world_size", "2"}}, alone, t),
                       doctest::Contains("world_size must be a positive integer"), Error);
  CHECK_THROWS_WITH_AS(check_distributed_settings(nlohmann::json{{"sync_bn", 1}}, alone, t),
                       doctest::Contains("sync_bn must be true or false"), Error);
  CHECK_THROWS_WITH_AS(check_distributed_settings(nlohmann::json{{"grad_bucket_mb", -1}}, alone, t),
                       doctest::Contains("grad_bucket_mb must be a number in [0, 1024], got -1"), Error);
  nlohmann::json config;
  t.sync_bn = true;
  record_distributed_settings(config, t, alone);
  CHECK(config["world_size"] == 1);
  CHECK(config["sync_bn"] == true);
  CHECK(config["grad_bucket_mb"] == 0.25);
}
