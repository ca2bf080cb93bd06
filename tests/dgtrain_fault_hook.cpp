// dgtrain_faults: dgtrain with test-only faults (tools/dgtrain_hooks.h), for the tests that
// need a run to fail in a way no real input makes happen on demand.
//   DG_TEST_NAN_STEP=N   G's gradient is poisoned during step index N (tests/test_dgtrain.cpp)
#include <cstdlib>

#include "tools/dgtrain_hooks.h"

dg::RunHooks dgtrain_run_hooks() {
  dg::RunHooks hooks;
  if (const char* nan_step = std::getenv("DG_TEST_NAN_STEP")) {
    const long long step = std::atoll(nan_step);
    hooks.before_first_step = [step](dg::GanTrainer& trainer) { trainer.inject_nan_gradient_at(step); };
  }
  return hooks;
}
