# Multi-process training (DESIGN §8, README "Many GPUs"):
#   -DDG_MPI=AUTO (default: on when MPI is found) | ON (fail without it) | OFF
# MPI (Debian: libopenmpi-dev openmpi-bin) launches and connects the ranks; the CPU backend
# reduces through it. With the CUDA backend, NCCL (found next to the CUDA toolkit, or under
# DG_NCCL_ROOT / NCCL_ROOT) reduces the device buffers. Without MPI, dgtrain runs as a
# single process and says so when it is launched as several.
set(DG_MPI AUTO CACHE STRING "Multi-process training through MPI: AUTO, ON or OFF")
set_property(CACHE DG_MPI PROPERTY STRINGS AUTO ON OFF)

set(DG_HAVE_MPI OFF)
set(DG_HAVE_NCCL OFF)
if(NOT DG_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    set(DG_HAVE_MPI ON)
    message(STATUS "dg: MPI ON (MPI ${MPI_CXX_VERSION}, ${MPI_CXX_LIB_NAMES}), launcher ${MPIEXEC_EXECUTABLE}")
  elseif(DG_MPI STREQUAL "ON")
    message(FATAL_ERROR "DG_MPI=ON but MPI was not found: install it with `apt-get install libopenmpi-dev openmpi-bin`")
  endif()
endif()
if(NOT DG_HAVE_MPI)
  message(STATUS "dg: MPI OFF (DG_MPI=${DG_MPI}): dgtrain trains in one process only")
endif()

# NCCL needs no MPI of its own (MPI only carries its unique id between ranks): found with the
# CUDA backend, it serves one GPU (the GPU tests) and, with MPI, many.
if(DG_CUDA_EMU)
  set(DG_HAVE_NCCL ON)  # the emulator's NCCL (tests/emu): ranks meet in shared memory
  message(STATUS "dg: NCCL from the emulator (DG_CUDA=EMU)")
elseif(DG_HAVE_CUDA)
  set(DG_NCCL_ROOT "$ENV{NCCL_ROOT}" CACHE PATH "Where NCCL is (include/nccl.h, lib/libnccl.so), if not in the CUDA toolkit")
  find_path(DG_NCCL_INCLUDE_DIR nccl.h HINTS ${DG_NCCL_ROOT}/include ${CUDAToolkit_INCLUDE_DIRS})
  find_library(DG_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${DG_NCCL_ROOT} ${CUDAToolkit_LIBRARY_DIR}
               PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
  if(DG_NCCL_INCLUDE_DIR AND DG_NCCL_LIBRARY)
    set(DG_HAVE_NCCL ON)
    if(DG_HAVE_MPI)
      message(STATUS "dg: NCCL ${DG_NCCL_LIBRARY}: multi-GPU training on")
    else()
      message(STATUS "dg: NCCL ${DG_NCCL_LIBRARY}, but no MPI: one GPU per run (install MPI for several)")
    endif()
  else()
    message(STATUS "dg: NCCL not found (set NCCL_ROOT): CUDA runs are single-GPU; MPI still serves the CPU backend")
  endif()
endif()
