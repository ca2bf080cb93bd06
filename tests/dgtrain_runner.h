// Running the real dgtrain binary from a test (DG_DGTRAIN is its path): in the foreground
// with its exit code and output (run_binary() runs other binaries, dgeval, the same way), or
// in the background to be signalled or killed; a tiny run's flags; and the bit-for-bit
// comparison of two checkpoints.
#pragma once
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "engine/safetensors.h"
#include "tests/dataset_files.h"

namespace dg::test {

struct Result {
  int code;            // the exit code, or 128 + the signal that ended it
  std::string output;  // stdout and stderr
};

// Runs the program `binary` with `args` (shell words) after `env` assignments, waiting for
// it to finish.
inline Result run_binary(const std::string& binary, const std::string& env, const std::string& args) {
  const std::string cmd = env + " " + binary + " " + args + " 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}
inline Result dgtrain_env(const std::string& env, const std::string& args) { return run_binary(DG_DGTRAIN, env, args); }
inline Result dgtrain(const std::string& args) { return dgtrain_env("", args); }

#ifdef DG_MPIEXEC
// A 2-rank launcher prefix for dgtrain_env(). The ranks get their environment here (see
// tests/CMakeLists.txt for why each): one thread each, no leak reports of Open MPI's own
// allocations under ASan, no cross-process memory copies in containers.
const std::string mpirun2 = std::string(DG_MPIEXEC) +
                            " -np 2 --oversubscribe --allow-run-as-root --bind-to none -x OMP_NUM_THREADS=1"
                            " -x ASAN_OPTIONS=detect_leaks=0 -x OMPI_MCA_btl_vader_single_copy_mechanism=none";
#endif

// Starts dgtrain with `args` (and the environment assignments `env`) in the background, its
// output into `log`; returns its pid (the shell execs it: dgtrain's own, or with a
// `launcher` prefix such as "mpirun -np 2 ...", the launcher's).
inline pid_t dgtrain_start(const std::string& args, const std::string& log, const std::string& env = "",
                           const std::string& launcher = "") {
  const std::string cmd = (env.empty() ? "" : "export " + env + "; ") + "exec " + launcher + " " +
                          std::string(DG_DGTRAIN) + " " + args + " > " + log + " 2>&1";
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// Waits for a background dgtrain; returns its exit code or 128 + the signal that ended it.
inline int dgtrain_wait(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A run small enough for a test: a tiny model, batch 4, on the CPU, no dashboard (a second of
// matplotlib per run; tests/test_watch.cpp turns it on).
inline std::string tiny(const std::string& out_dir, const std::string& name) {
  return "--nz 8 --ngf 4 --ndf 4 --batch-size 4 --device cpu --log-every 1 --sample-every 2 --dashboard off --out " +
         out_dir + " --run-name " + name;
}

inline std::string read_text(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline int count_lines(const std::string& path) {
  std::ifstream f(path);
  int n = 0;
  for (std::string line; std::getline(f, line);) n++;
  return n;
}

// Waits until the file at `path` has `lines` lines (a background run's metrics); at most 60 s.
inline void wait_for_lines(const std::string& path, int lines) {
  for (int i = 0; i < 1200 && count_lines(path) < lines; i++) usleep(50 * 1000);
  REQUIRE(count_lines(path) >= lines);
}

// Fashion-MNIST-shaped training images, gzipped, in `dir`.
inline void write_idx_gz(const std::string& dir, int n) {
  write_gz(dir + "/train-images-idx3-ubyte.gz", idx_file(0x0803, {uint32_t(n), 28, 28}, pattern_bytes(size_t(n) * 784)));
}

// Every tensor of two checkpoints identical, bit for bit.
inline void check_same_checkpoint(const std::string& a, const std::string& b) {
  SafeTensors x = read_safetensors(a), y = read_safetensors(b);
  REQUIRE(x.tensors.size() == y.tensors.size());
  REQUIRE(!x.tensors.empty());  // two empty files are not "the same checkpoint"
  CHECK(x.meta("step") == y.meta("step"));
  int differ = 0;
  for (const auto& [name, t] : x.tensors)
    if (t.data != y.at(name).data) {
      differ++;
      MESSAGE("tensor differs: ", name);
    }
  CHECK(differ == 0);
}

}  // namespace dg::test
