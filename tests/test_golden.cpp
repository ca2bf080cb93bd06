// One K=2 `max` training step on the CPU against PyTorch (tests/golden_step.h).
#include "tests/golden_step.h"

TEST_CASE("a K=2 max training step matches PyTorch on the CPU") { dg::test::check_golden_step({}); }
