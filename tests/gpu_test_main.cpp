// main() of the GPU suites: without a visible CUDA device every test exits with 77, which
// CTest reports as skipped (SKIP_RETURN_CODE), never as passed. Listing the tests (what
// doctest_discover_tests does at build time) works without a device. A run that selects no
// test case fails (tests/selected_guard.h). Under the emulator (-DDG_CUDA=EMU) there is always
// a device: a missing one is a failure, never a skip.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <exception>

#include "engine/context.h"
#include "tests/selected_guard.h"

int main(int argc, char** argv) {
  const bool listing = dg::test::listing_only(argc, argv);
  bool available = false;
  try {
    available = listing || dg::cuda_available();
  } catch (const std::exception& e) {  // a broken CUDA runtime fails the GPU suites, never skips them
    std::printf("FAILED: %s\n", e.what());
    return 1;
  }
  if (!available) {
#ifdef DG_CUDA_EMU
    std::printf("FAILED: the CUDA emulator shows no device (DGEMU_DEVICES?)\n");
    return 1;
#else
    std::printf("SKIPPED: no CUDA device visible (%s)\n",
                dg::cuda_built() ? "CUDA backend built" : "this build has no CUDA backend");
    return 77;
#endif
  }
  doctest::Context ctx(argc, argv);
  const int failed = ctx.run();
  if (listing || ctx.shouldExit()) return failed;
  return failed != 0 || dg::test::nothing_selected() ? 1 : 0;
}
