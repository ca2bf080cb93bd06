// SIGINT and SIGTERM stop a run at the next step, with a checkpoint (tools/run/training_loop.cpp).
// The flag they set is the one piece of process-wide state in the run library: a signal
// handler can reach nothing else.
#pragma once

namespace dg {

void install_stop_signal_handlers();  // SIGINT and SIGTERM; forgets a signal seen before
int stop_signal_received();           // the last signal received, 0 while none
int exit_code_for_signal(int sig);    // 128 + sig, as a shell reports a process a signal ended

}  // namespace dg
