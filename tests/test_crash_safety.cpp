// Crash safety of dgtrain (DESIGN §9), on the CPU backend, with the real binary:
//   - kill -9 at many points of a run (mid-step, mid-checkpoint-write, mid-sample, mid-log),
//     resuming after each kill: the last complete checkpoint always loads and the run that
//     was killed over and over ends bit for bit where the uninterrupted run ends;
//   - a checkpoint write that fails (disk full, a path that cannot be created): the run says
//     so and stops with exit code 4, and the previous checkpoint is intact;
//   - SIGTERM: one checkpoint, a clean exit, and the resume continues exactly.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/dgtrain_runner.h"

using namespace dg::test;

namespace {

// One OpenMP thread: the test's own polling must not starve a team of two on a 2-core machine.
const std::string kOneThread = "OMP_NUM_THREADS=1";

std::string step_file(const std::string& run, int64_t step, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof name, "/checkpoints/step_%06lld.safetensors%s", static_cast<long long>(step), suffix);
  return run + name;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// Files a kill left half-written (*.tmp) in the run folder and its subfolders.
int partial_files(const std::string& run, const char* sub) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(run + "/" + sub)) n += e.path().extension() == ".tmp";
  return n;
}

// The newest checkpoint's step, -1 when there is none; REQUIREs that it loads and that its
// metadata names the step its file name says.
int64_t latest_loadable_step(const std::string& run) {
  int64_t latest = -1;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".safetensors") latest = std::max<int64_t>(latest, std::stoll(name.substr(5, 6)));
  }
  if (latest >= 0) {
    dg::SafeTensors st;
    REQUIRE_NOTHROW(st = dg::read_safetensors(step_file(run, latest, "")));
    CHECK(std::stoll(st.meta("step")) == latest);
  }
  return latest;
}

std::map<int64_t, nlohmann::json> metrics_by_step(const std::string& run) {
  std::map<int64_t, nlohmann::json> by_step;
  std::ifstream f(run + "/metrics.jsonl");
  for (std::string line; std::getline(f, line);) {
    nlohmann::json j = nlohmann::json::parse(line);  // a torn line would throw here
    const int64_t step = j.at("step");
    CHECK_MESSAGE(by_step.count(step) == 0, "metrics.jsonl logs step ", step, " twice");
    by_step[step] = j;
  }
  return by_step;
}

void sleep_us(int us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

// True once the process has ended (reaped; its status in *code).
bool ended(pid_t pid, int* code) {
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) != pid) return false;
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

}  // namespace

TEST_CASE("kill -9 at 20+ points, resuming each time: every kill leaves a loadable checkpoint, the end is bit-exact") {
  // On the build's disk, not a tmpfs: there fsync makes a checkpoint write last long enough
  // to be hit by a kill.
  TempDir dir(fs::current_path());
  write_idx_gz(dir / "idx", 20);  // 5 batches an epoch: the run crosses epochs between kills
  const int64_t total = 48;
  const std::string run_args = "--data " + (dir / "idx") + " --steps " + std::to_string(total) +
                               " --checkpoint-every 1 ";
  Result whole = dgtrain_env(kOneThread, run_args + tiny(dir / "runs", "whole"));
  INFO(whole.output);
  REQUIRE(whole.code == 0);

  const std::string run = dir / "runs/killed";
  const int delays_us[] = {0, 150, 400, 800, 1500, 2500, 4000};
  int kills = 0, during_checkpoint_write = 0, during_sample_write = 0, launches = 0, tidied = 0;
  bool left_partial = false;  // the last kill left a half-written file for the resume to delete
  for (;;) {
    const int64_t from = launches == 0 ? 0 : latest_loadable_step(run);
    const std::string args = launches == 0 ? run_args + tiny(dir / "runs", "killed") : "--resume " + run;
    const pid_t pid = dgtrain_start(args, dir / "log", kOneThread);
    launches++;
    // Every other launch is killed while a checkpoint is being written (its temporary file
    // exists), one step after the resumed one so that the run moves on; the others at a
    // varying delay after the first new checkpoint, which lands anywhere in the step, the
    // logging, the sample grid or the next write.
    const bool in_write = kills % 2 == 0 && (kills < 24 || during_checkpoint_write < 6);
    const bool kill_more = kills < 24 || during_checkpoint_write < 6;
    int64_t target = from + (in_write ? 2 : 1);
    int code = -1;
    bool done = false;
    for (int spins = 0; kill_more && target <= total; spins++) {
      REQUIRE_MESSAGE(spins < 2000000, "the run made no progress (launch ", launches, ")");
      if (ended(pid, &code)) {
        done = true;
        break;
      }
      if (in_write && exists(step_file(run, target, ".tmp"))) break;
      if (exists(step_file(run, target, ""))) {
        if (!in_write) {
          sleep_us(delays_us[kills % 7]);
          break;
        }
        if (target - from >= 6) break;  // six writes missed: kill it anyway
        target++;                       // that write was missed: aim at the next one
      }
      sleep_us(20);
    }
    if (!done && kill_more && target <= total) {
      ::kill(pid, SIGKILL);
      code = dgtrain_wait(pid);
      if (code == 128 + SIGKILL) {
        if (left_partial) tidied += read_text(dir / "log").find("partly written") != std::string::npos;
        kills++;
        during_checkpoint_write += partial_files(run, "checkpoints") > 0;
        during_sample_write += partial_files(run, "samples") > 0;
        left_partial = partial_files(run, "checkpoints") + partial_files(run, "samples") > 0;
        latest_loadable_step(run);  // the last complete checkpoint always loads
        continue;
      }
    }
    if (!done) code = dgtrain_wait(pid);
    INFO(read_text(dir / "log"));
    REQUIRE(code == 0);  // a launch that was not killed finishes the run
    break;
  }
  MESSAGE(kills, " kills (", during_checkpoint_write, " while a checkpoint was being written, ", during_sample_write,
          " while a sample grid was), ", launches, " launches, ", tidied, " resumes deleted partial files");
  CHECK(kills >= 20);
  CHECK(during_checkpoint_write >= 5);
  CHECK(tidied >= 3);  // resumes after those kills said they deleted the partial files
  CHECK(partial_files(run, "checkpoints") == 0);  // resume cleans up what a kill left
  CHECK(partial_files(run, "samples") == 0);

  // The run that was killed over and over ends where the uninterrupted one does, bit for bit,
  // and its metrics log every step once, with the same losses and selections.
  check_same_checkpoint(dir / "runs/whole/checkpoints/step_000048.safetensors", step_file(run, total, ""));
  const auto a = metrics_by_step(dir / "runs/whole"), b = metrics_by_step(run);
  CHECK(a.size() == size_t(total));
  REQUIRE(b.size() == a.size());
  for (const auto& [step, line] : a)
    for (const char* key : {"g_loss", "d_real", "d_fake", "selected"})
      CHECK_MESSAGE(line.at(key) == b.at(step).at(key), "step ", step, " ", key);
}

TEST_CASE("a checkpoint that cannot be written stops the run with exit 4 and the previous one intact") {
  TempDir dir;
  write_idx_gz(dir / "idx", 16);
  const std::string args = "--data " + (dir / "idx") + " --steps 6 --checkpoint-every 2 ";
  REQUIRE(dgtrain(args + tiny(dir / "runs", "whole")).code == 0);

  struct Case {
    const char* name;
    const char* reason;  // strerror text
  };
  for (Case c : {Case{"full", "No space left on device"}, Case{"blocked", "Is a directory"}}) {
    CAPTURE(c.name);
    // The temporary file of step 4's checkpoint is, before the run starts, a link to
    // /dev/full (every write fails: the disk is full) or a directory (it cannot be created).
    const std::string run = dir / ("runs/" + std::string(c.name));
    fs::create_directories(run + "/checkpoints");
    if (std::string(c.name) == "full")
      fs::create_symlink("/dev/full", step_file(run, 4, ".tmp"));
    else
      fs::create_directories(step_file(run, 4, ".tmp"));
    Result r = dgtrain(args + tiny(dir / "runs", c.name));
    INFO(r.output);
    CHECK(r.code == 4);
    CHECK(r.output.find("checkpoint of step 4 could not be written") != std::string::npos);
    CHECK(r.output.find(c.reason) != std::string::npos);
    CHECK(r.output.find("last good checkpoint is " + step_file(run, 2, "")) != std::string::npos);
    CHECK_FALSE(exists(step_file(run, 4, "")));
    check_same_checkpoint(dir / "runs/whole/checkpoints/step_000002.safetensors", step_file(run, 2, ""));
    // Once there is room again, the run resumes from step 2 and ends as the whole run does.
    fs::remove_all(step_file(run, 4, ".tmp"));
    Result resumed = dgtrain("--resume " + run);
    INFO(resumed.output);
    REQUIRE(resumed.code == 0);
    check_same_checkpoint(dir / "runs/whole/checkpoints/step_000006.safetensors", step_file(run, 6, ""));
  }
}

TEST_CASE("SIGTERM finishes the step, writes one checkpoint, exits 143, and the resume continues exactly") {
  TempDir dir;
  write_idx_gz(dir / "idx", 16);
  const std::string run = dir / "runs/sig";
  const pid_t pid = dgtrain_start("--data " + (dir / "idx") + " --steps 100000 --checkpoint-every 0 " +
                                      tiny(dir / "runs", "sig"),
                                  dir / "log");
  wait_for_lines(run + "/metrics.jsonl", 3);
  ::kill(pid, SIGTERM);
  CHECK(dgtrain_wait(pid) == 128 + SIGTERM);
  CHECK(read_text(dir / "log").find("continue with: dgtrain --resume") != std::string::npos);
  int checkpoints = 0;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints")) checkpoints += e.path().extension() == ".safetensors";
  CHECK(checkpoints == 1);
  const int64_t stopped = latest_loadable_step(run);
  REQUIRE(stopped >= 3);

  // Three more steps from the checkpoint equal a run that went straight to them.
  const std::string end = std::to_string(stopped + 3);
  Result rest = dgtrain("--resume " + run + " --steps " + end);
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  REQUIRE(dgtrain("--data " + (dir / "idx") + " --steps " + end + " " + tiny(dir / "runs", "straight")).code == 0);
  check_same_checkpoint(step_file(dir / "runs/straight", stopped + 3, ""), step_file(run, stopped + 3, ""));
}
