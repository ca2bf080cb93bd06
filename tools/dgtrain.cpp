// dgtrain: trains a DCGAN generator against K discriminators. `dgtrain --help` lists the
// flags; with none it trains dcgan32, K = 2 (max), on Fashion-MNIST (README.md).
#include <cstdio>
#include <set>

#include "data/data_error.h"
#include "tools/train_run.h"

int main(int argc, char** argv) {
  dg::TrainOptions options;
  CLI::App app{"dgtrain: train a DCGAN generator against K discriminators (dg)", "dgtrain"};
  dg::add_train_flags(app, options);
  CLI11_PARSE(app, argc, argv);
  std::set<std::string> given;
  for (const CLI::Option* opt : app.get_options())
    if (opt->count() > 0 && !opt->get_lnames().empty()) given.insert("--" + opt->get_lnames()[0]);
  try {
    dg::resolve_flags(options);
    return dg::run_training(options, given);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "\ndgtrain: error: %s\n", e.what());
    return dg::kExitError;
  }
}
