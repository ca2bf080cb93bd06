// main() of the CPU suites: doctest's, failing a run that selected no test case
// (tests/selected_guard.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/selected_guard.h"

int main(int argc, char** argv) {
  doctest::Context ctx(argc, argv);
  const int failed = ctx.run();
  if (dg::test::listing_only(argc, argv) || ctx.shouldExit()) return failed;
  return failed != 0 || dg::test::nothing_selected() ? 1 : 0;
}
