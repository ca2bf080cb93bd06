// dgbench fid: the seconds of one FID evaluation per feature network (issue #5), as dgtrain
// --eval-every and dgeval run it: `samples` images from an untrained dcgan32 generator (eval
// mode) and as many real-looking images through the network, FID statistics of both, and
// the Fréchet distance. Timing does not depend on the weights, so both networks run with
// made-up ones (DESIGN §4 init) written to a temporary file and loaded as a user's would be.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/context.h"

namespace dg {

struct FidBenchResult {
  std::string network;   // "dg-classifier" or "inception-v3-fid"
  int64_t samples = 0;
  double generated_s = 0;  // G + features + statistics of the generated side
  double real_s = 0;       // features + statistics of the real side (cached after the first time)
  double frechet_s = 0;    // the distance itself (float64 eigendecompositions)
  double total_s() const { return generated_s + real_s + frechet_s; }
  nlohmann::json to_json() const;
};

// networks: some of "dg-classifier", "inception-v3-fid".
void bench_fid(const ContextOptions& copt, int64_t samples, const std::vector<std::string>& networks,
               const std::function<void(const FidBenchResult&)>& report);

}  // namespace dg
