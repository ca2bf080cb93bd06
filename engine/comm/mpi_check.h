// Error check for every MPI call: on failure a dg::Error names the call, its file:line
// and MPI's own error string. (MPI's default handler aborts; tools/run/distributed.cpp sets
// MPI_ERRORS_RETURN so the error reaches this check.)
#pragma once
#include <mpi.h>

#include "engine/error.h"

namespace dg {
inline std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, size_t(length));
}
}  // namespace dg

#define DG_MPI_CHECK(call)                                                                    \
  do {                                                                                        \
    int dg_mpi_rc_ = (call);                                                                  \
    if (dg_mpi_rc_ != MPI_SUCCESS) ::dg::fail_at(__FILE__, __LINE__, #call, ": ", ::dg::mpi_error_string(dg_mpi_rc_)); \
  } while (0)
