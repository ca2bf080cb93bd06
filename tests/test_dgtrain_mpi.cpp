// dgtrain as 2 ranks under mpirun on the CPU backend (label mpi; issue #7): rank 0 alone
// writes the run folder, config.json records the world size, a resumed 2-rank run equals the
// uninterrupted one bit for bit, a resume with another world size is refused naming both,
// and an error on the ranks ends the whole launch instead of leaving ranks waiting.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "models/classifier.h"
#include "tests/dgtrain_runner.h"

using namespace dg::test;

namespace {
// The launcher prefix: what dgtrain_env() puts before the binary. The ranks get their
// environment here (see tests/CMakeLists.txt for why each): one thread each, no leak reports
// of Open MPI's own allocations under ASan, no cross-process memory copies in containers.
const std::string mpirun2 = std::string(DG_MPIEXEC) +
                            " -np 2 --oversubscribe --allow-run-as-root --bind-to none -x OMP_NUM_THREADS=1"
                            " -x ASAN_OPTIONS=detect_leaks=0 -x OMPI_MCA_btl_vader_single_copy_mechanism=none";
}  // namespace

TEST_CASE("2 ranks: rank 0 writes, the world size is recorded, resume needs the same world size") {
  TempDir dir;
  write_idx_gz(dir / "idx", 40);  // 20 images per rank, 5 batches of 4 an epoch: 8 steps cross one
  const std::string data = "--data " + (dir / "idx") + " ";
  Result whole = dgtrain_env(mpirun2, data + "--steps 8 " + tiny(dir / "runs", "whole"));
  INFO(whole.output);
  REQUIRE(whole.code == 0);
  CHECK(whole.output.find("2 ranks") != std::string::npos);
  CHECK(whole.output.find("gradients averaged by MPI") != std::string::npos);
  // One "done" line (rank 0's), one metrics line per step (only rank 0 appends).
  size_t done = 0;
  for (size_t at = whole.output.find("dgtrain: done"); at != std::string::npos; at = whole.output.find("dgtrain: done", at + 1)) done++;
  CHECK(done == 1);
  CHECK(count_lines(dir / "runs/whole/metrics.jsonl") == 8);
  CHECK(read_text(dir / "runs/whole/config.json").find("\"world_size\": 2") != std::string::npos);

  REQUIRE(dgtrain_env(mpirun2, data + "--steps 3 " + tiny(dir / "runs", "split")).code == 0);
  Result rest = dgtrain_env(mpirun2, "--resume " + (dir / "runs/split") + " --steps 8");
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  CHECK(rest.output.find("from step 3") != std::string::npos);
  check_same_checkpoint(dir / "runs/whole/checkpoints/step_000008.safetensors",
                        dir / "runs/split/checkpoints/step_000008.safetensors");

  Result alone = dgtrain("--resume " + (dir / "runs/split") + " --steps 10");
  CHECK(alone.code == 1);
  CHECK(alone.output.find("trained on 2 rank(s)") != std::string::npos);
  CHECK(alone.output.find("this launch has 1") != std::string::npos);
}

TEST_CASE("2 ranks with --sync-bn: recorded in config.json and kept on resume") {
  TempDir dir;
  write_idx_gz(dir / "idx", 16);
  Result r = dgtrain_env(mpirun2, "--data " + (dir / "idx") + " --steps 2 --sync-bn " + tiny(dir / "runs", "s"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("BatchNorm statistics synchronized") != std::string::npos);
  CHECK(read_text(dir / "runs/s/config.json").find("\"sync_bn\": true") != std::string::npos);
  Result rest = dgtrain_env(mpirun2, "--resume " + (dir / "runs/s") + " --steps 3");
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  CHECK(rest.output.find("BatchNorm statistics synchronized") != std::string::npos);
}

TEST_CASE("an error on the ranks ends the whole launch with the message") {
  TempDir dir;
  Result r = dgtrain_env(mpirun2, "--data " + (dir / "nothing-here") + " --steps 1 --device cpu --out " + (dir / "runs"));
  CHECK(r.code != 0);
  CHECK(r.output.find("nothing-here") != std::string::npos);
}

TEST_CASE("2 ranks with --eval-every: rank 0 evaluates, and --early-stop stops every rank at the same step") {
  TempDir dir;
  write_idx_gz(dir / "idx", 40);
  {
    dg::Context ctx;  // an untrained classifier is a feature network like any other
    dg::ClassifierConfig cfg;
    cfg.classes = 3;
    cfg.width = 4;
    dg::Classifier c(ctx, cfg, true);
    c.init_weights(ctx, 1);
    c.save(ctx, dir / "cls.safetensors", {});
  }
  Result r = dgtrain_env(mpirun2, "--data " + (dir / "idx") + " --steps 30 --eval-every 1 --eval-samples 20 --early-stop 1 " +
                                      "--eval-features " + (dir / "cls.safetensors") + " --lr-g 0.05 --lr-d 0.05 " +
                                      tiny(dir / "runs", "e"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  size_t stops = 0;
  for (size_t at = r.output.find("stopping early"); at != std::string::npos; at = r.output.find("stopping early", at + 1))
    stops++;
  CHECK(stops == 1);  // rank 0's message only
  std::vector<nlohmann::json> evals;
  std::ifstream f(dir / "runs/e/metrics.jsonl");
  for (std::string line; std::getline(f, line);)
    if (line.find("\"fid\"") != std::string::npos) evals.push_back(nlohmann::json::parse(line));
  REQUIRE(evals.size() >= 2);
  const int64_t last = evals.back()["step"];
  CHECK(last < 30);
  // Both ranks left the loop there: the run's final checkpoint is that step's.
  CHECK(read_text(dir / "runs/e/checkpoints/step_" + std::string(6 - std::to_string(last).size(), '0') +
                  std::to_string(last) + ".safetensors").size() > 0);
  CHECK(dg::read_safetensors(dir / "runs/e/checkpoints/best.safetensors").meta("step") ==
        std::to_string(evals.back()["best_step"].get<int64_t>()));
}
