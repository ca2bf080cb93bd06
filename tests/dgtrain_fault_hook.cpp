// dgtrain_faults: dgtrain with test-only faults (tools/dgtrain_hooks.h), for the tests that
// need a run to fail in a way no real input makes happen on demand.
//   DG_TEST_NAN_STEP=N   G's parameters become NaN at the end of step index N (0-based), so the
//                        losses of step index N+1 are NaN (tests/test_dgtrain.cpp). (All of
//                        them: one NaN weight can vanish behind a ReLU for a step.)
#include <cmath>
#include <cstdlib>

#include "tools/dgtrain_hooks.h"

dg::RunHooks dgtrain_run_hooks() {
  dg::RunHooks hooks;
  if (const char* nan_step = std::getenv("DG_TEST_NAN_STEP")) {
    const long long after = std::atoll(nan_step) + 1;  // trainer.step() counts completed steps
    hooks.after_train_step = [after](dg::Context& ctx, dg::GanTrainer& trainer) {
      if (trainer.step() == after) ctx.fill(trainer.generator().params.params(), NAN);
    };
  }
  return hooks;
}
