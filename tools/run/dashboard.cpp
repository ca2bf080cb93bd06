#include "tools/run/dashboard.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;

namespace dg {

std::string draw_dashboard(const std::string& run_folder) {
  std::error_code ec;
  const fs::path script = fs::read_symlink("/proc/self/exe", ec).parent_path() / "dgplot.py";
  if (ec || !fs::exists(script)) return "no " + script.string() + " beside dgtrain";
  std::vector<std::string> args = {"python3", script.string(), "--quiet", run_folder};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  // posix_spawn, not fork: safe in an MPI rank and in a process with OpenMP threads.
  if (posix_spawnp(&pid, "python3", nullptr, nullptr, argv.data(), environ) != 0) return "python3 is not on PATH";
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return "waiting for tools/dgplot.py failed";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) return "matplotlib is not installed (python3 -m pip install matplotlib)";
  return "tools/dgplot.py failed (its message is above)";
}

}  // namespace dg
