// main() of the MPI suites, which CTest runs as `mpirun -np 2 <suite>`: MPI starts before
// doctest and ends after it, and MPI errors come back as codes (DG_MPI_CHECK turns them into
// dg::Error). Every rank runs every test case in the same order, so the collectives inside
// them pair up; checks are evaluated on every rank and each rank reports its own result. A
// run that selects no test case fails (tests/selected_guard.h). The GPU suites (built with
// DG_GPU_SUITE) need a device per rank: with fewer they report themselves skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <mpi.h>

#include "tests/selected_guard.h"

#ifdef DG_GPU_SUITE
#include <cstdio>
#include <exception>

#include "engine/context.h"
#endif

int main(int argc, char** argv) {
  if (dg::test::listing_only(argc, argv)) {  // doctest_discover_tests lists the cases at build time, without mpirun
    doctest::Context ctx(argc, argv);
    return ctx.run();
  }
  MPI_Init(&argc, &argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
#ifdef DG_GPU_SUITE
  int ranks = 0, devices = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  try {
    devices = dg::cuda_device_count();
  } catch (const std::exception& e) {  // a broken runtime fails, never skips
    std::printf("FAILED: %s\n", e.what());
    MPI_Finalize();
    return 1;
  }
  if (devices < ranks) {
#ifdef DG_CUDA_EMU
    std::printf("FAILED: the CUDA emulator shows %d devices for %d ranks (DGEMU_DEVICES)\n", devices, ranks);
    MPI_Finalize();
    return 1;
#else
    std::printf("SKIPPED: %d CUDA device(s) for %d ranks\n", devices, ranks);
    MPI_Finalize();
    return 77;
#endif
  }
#endif
  int failed = 0;
  {
    doctest::Context ctx(argc, argv);
    failed = ctx.run();
    if (!ctx.shouldExit() && dg::test::nothing_selected()) failed = 1;
  }
  // One verdict for all ranks: a failure on any rank fails the test.
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any_failed != 0 ? 1 : 0;
}
