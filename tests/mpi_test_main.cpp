// main() of the MPI suites, which CTest runs as `mpirun -np 2 <suite>`: MPI starts before
// doctest and ends after it, and MPI errors come back as codes (DG_MPI_CHECK turns them into
// dg::Error). Every rank runs every test case in the same order, so the collectives inside
// them pair up; checks are evaluated on every rank and each rank reports its own result. A
// run that selects no test case fails (tests/selected_guard.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <mpi.h>

#include "tests/selected_guard.h"

int main(int argc, char** argv) {
  if (dg::test::listing_only(argc, argv)) {  // doctest_discover_tests lists the cases at build time, without mpirun
    doctest::Context ctx(argc, argv);
    return ctx.run();
  }
  MPI_Init(&argc, &argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
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
