// dgtrain as 2 ranks under mpirun on the CPU backend (label mpi; issue #7): rank 0 alone
// writes the run folder, config.json records the world size, a resumed 2-rank run equals the
// uninterrupted one bit for bit, a resume with another world size is refused naming both,
// an error on the ranks ends the whole launch instead of leaving ranks waiting, and a SIGTERM
// reaching one rank stops every rank after the same step with one checkpoint.
#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/classifier.h"
#include "tests/dgtrain_runner.h"

using namespace dg::test;

namespace {
// The pids of `parent`'s children whose command is `name` (from /proc: no procps needed).
std::vector<pid_t> children_named(pid_t parent, const std::string& name) {
  std::vector<pid_t> found;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split at the last ')'.
    const std::string stat = read_text(e.path().string() + "/stat");
    const size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) == 2 && ppid == parent &&
        stat.substr(open + 1, close - open - 1) == name)
      found.push_back(pid_t(std::stol(pid)));
  }
  return found;
}
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

TEST_CASE("2 ranks with --sync-bn and --grad-bucket-mb: recorded in config.json and kept on resume") {
  TempDir dir;
  write_idx_gz(dir / "idx", 16);
  Result r = dgtrain_env(mpirun2, "--data " + (dir / "idx") + " --steps 2 --sync-bn --grad-bucket-mb 0.5 " +
                                      tiny(dir / "runs", "s"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("BatchNorm statistics synchronized") != std::string::npos);
  CHECK(r.output.find("gradients averaged in 0.5 MiB buckets during the backward") != std::string::npos);
  const std::string config = read_text(dir / "runs/s/config.json");
  CHECK(config.find("\"sync_bn\": true") != std::string::npos);
  CHECK(config.find("\"grad_bucket_mb\": 0.5") != std::string::npos);
  Result rest = dgtrain_env(mpirun2, "--resume " + (dir / "runs/s") + " --steps 3");
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  CHECK(rest.output.find("BatchNorm statistics synchronized") != std::string::npos);
  CHECK(rest.output.find("0.5 MiB buckets") != std::string::npos);
  Result other = dgtrain_env(mpirun2, "--resume " + (dir / "runs/s") + " --steps 4 --grad-bucket-mb 0");
  CHECK(other.code != 0);
  CHECK(other.output.find("--grad-bucket-mb cannot be combined with --resume") != std::string::npos);
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

// A SIGTERM to one rank (as a scheduler's signal reaches the ranks; Open MPI's mpirun itself
// answers SIGTERM by killing the ranks): the ranks agree on the stop each step, so both end
// after the same step, rank 0 writes one checkpoint, and the 2-rank resume continues exactly.
TEST_CASE("SIGTERM to one rank stops both after the same step with one checkpoint, and the resume is exact") {
  TempDir dir;
  write_idx_gz(dir / "idx", 16);
  const std::string run = dir / "runs/sig";
  const pid_t launcher = dgtrain_start("--data " + (dir / "idx") + " --steps 100000 --checkpoint-every 0 " +
                                           tiny(dir / "runs", "sig"),
                                       dir / "log", "", mpirun2);
  const std::string metrics = run + "/metrics.jsonl";
  wait_for_lines(metrics, 3);
  const std::vector<pid_t> ranks = children_named(launcher, "dgtrain");
  REQUIRE(ranks.size() == 2);
  ::kill(ranks.back(), SIGTERM);
  int status = 0;
  REQUIRE(waitpid(launcher, &status, 0) == launcher);
  const std::string log = read_text(dir / "log");
  INFO(log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
  const size_t at = log.find("stopped by signal 15 after step ");
  REQUIRE(at != std::string::npos);
  const int64_t stopped = std::stoll(log.substr(at + 32));
  CHECK(log.find("stopped by signal", at + 1) == std::string::npos);  // rank 0 alone says it
  std::vector<std::string> checkpoints;
  for (const auto& e : std::filesystem::directory_iterator(run + "/checkpoints"))
    if (e.path().extension() == ".safetensors") checkpoints.push_back(e.path().filename().string());
  REQUIRE(checkpoints.size() == 1);
  char name[64];
  std::snprintf(name, sizeof name, "step_%06lld.safetensors", static_cast<long long>(stopped));
  CHECK(checkpoints[0] == name);
  CHECK(count_lines(metrics) == stopped);  // every step logged once, none after the stop

  const std::string end = std::to_string(stopped + 3);
  Result rest = dgtrain_env(mpirun2, "--resume " + run + " --steps " + end);
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  REQUIRE(dgtrain_env(mpirun2, "--data " + (dir / "idx") + " --steps " + end + " " + tiny(dir / "runs", "straight")).code == 0);
  std::snprintf(name, sizeof name, "/checkpoints/step_%06lld.safetensors", static_cast<long long>(stopped + 3));
  check_same_checkpoint(dir / "runs/straight" + std::string(name), run + name);
}
