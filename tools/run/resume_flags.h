// The flags a --resume may be given again. Everything else a resumed run does comes from its
// run folder's config.json. This one table (resume_flags.cpp) is where the check of a
// launch's flags, its error message and the copy onto the saved settings all come from.
#pragma once
#include <set>
#include <string>

#include "tools/run/train_options.h"

namespace dg {

// True for --resume itself and for the flags of the table.
bool allowed_with_resume(const std::string& flag);
// The table's flags, space-separated ("--steps --epochs ..."), for messages.
std::string resumable_flags_text();
// dg::Error naming the first of the `given` flags (long names, "--steps") that a resume of
// `run_folder` does not accept, and the ones it does.
void check_flags_allowed_with_resume(const std::set<std::string>& given, const std::string& run_folder);
// `saved` (a run's config.json) with the resumable flags of this launch that were `given`
// laid over it, from `launch`; --steps and --epochs also clear total_steps (it is recomputed
// from them). The result resumes `launch.resume`.
TrainOptions with_resumable_flags(TrainOptions saved, const TrainOptions& launch, const std::set<std::string>& given);

}  // namespace dg
