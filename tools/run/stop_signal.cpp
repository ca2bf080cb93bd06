#include "tools/run/stop_signal.h"

#include <csignal>

namespace dg {

static volatile std::sig_atomic_t g_stop_signal = 0;
static void on_signal(int sig) { g_stop_signal = sig; }

void install_stop_signal_handlers() {
  g_stop_signal = 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

int stop_signal_received() { return int(g_stop_signal); }

int exit_code_for_signal(int sig) { return 128 + sig; }

}  // namespace dg
