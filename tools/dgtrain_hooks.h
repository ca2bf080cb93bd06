// The seam of dgtrain's test-only faults: dgtrain's main takes its run hooks from here.
// dgtrain links tools/dgtrain_hooks.cpp, which has none; the test build dgtrain_faults links
// tests/dgtrain_fault_hook.cpp instead. Production code never reads a fault's setting.
#pragma once
#include "tools/run/training_run.h"

dg::RunHooks dgtrain_run_hooks();
