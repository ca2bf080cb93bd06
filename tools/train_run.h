// dgtrain's run: data, device, run folder, the step loop, logging, samples, checkpoints,
// signals and the non-finite-loss stop. tools/dgtrain.cpp only parses flags and calls it.
#pragma once
#include <set>
#include <string>

#include "tools/distributed.h"
#include "tools/train_options.h"

namespace dg {

// Exit codes of a run.
constexpr int kExitOk = 0, kExitError = 1, kExitNonFinite = 3, kExitCheckpointFailed = 4;
int exit_code_for_signal(int sig);  // 128 + sig

// `given`: the flags the user gave (checked against --resume). `dist`: this process's place
// among the ranks (tools/distributed.h); rank 0 writes the run folder.
int run_training(TrainOptions o, const std::set<std::string>& given, Distributed& dist);

}  // namespace dg
