// dgtrain's flags (CLI11), bound to the fields of TrainOptions (tools/run/train_options.h),
// with their ranges, groups and shown defaults.
#pragma once
#include <set>
#include <string>

#include <CLI/CLI.hpp>

#include "tools/run/train_options.h"

namespace dg {

// Every flag of a single-process run, bound to `o`.
void add_train_flags(CLI::App& app, TrainOptions& o);
// --sync-bn and --grad-bucket-mb (several ranks, tools/run/distributed.h), bound to `train`.
void add_distributed_flags(CLI::App& app, TrainConfig& train);
// The long names ("--steps") of the flags given on the command line that `app` parsed.
std::set<std::string> given_flags(const CLI::App& app);

}  // namespace dg
