// dgtrain: trains a DCGAN generator against K discriminators. `dgtrain --help` lists the
// flags; with none it trains dcgan32, K = 2 (max), on Fashion-MNIST (README.md).
// `mpirun -np N dgtrain ...` (or srun) trains on N ranks (tools/run/distributed.h).
// The run itself is tools/run/training_run.h; the flags are tools/train_flags.h.
#include <cstdio>
#include <memory>
#include <set>

#include "data/data_error.h"
#include "tools/dgtrain_hooks.h"
#include "tools/run/distributed.h"
#include "tools/run/training_run.h"
#include "tools/train_flags.h"

int main(int argc, char** argv) {
  dg::TrainOptions options;
  CLI::App app{"dgtrain: train a DCGAN generator against K discriminators (dg)", "dgtrain"};
  dg::add_train_flags(app, options);
  dg::add_distributed_flags(app, options.train);
  CLI11_PARSE(app, argc, argv);
  const std::set<std::string> given = dg::given_flags(app);
  std::unique_ptr<dg::Distributed> dist;
  try {
    dist = std::make_unique<dg::Distributed>();
    if (dist->idle()) return dg::kExitOk;
    dg::resolve_flags(options);
    return dg::run_training(options, given, *dist, dgtrain_run_hooks());
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "\ndgtrain: error%s: %s\n",
                 dist && dist->world_size() > 1 ? (" on rank " + std::to_string(dist->rank())).c_str() : "",
                 e.what());
    if (dist) dist->abort_others(dg::kExitError);  // no rank may wait forever in a collective
    return dg::kExitError;
  }
}
