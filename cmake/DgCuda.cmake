# CUDA backend: on when nvcc is found, unless DG_CUDA says otherwise.
#   -DDG_CUDA=AUTO (default) | ON (fail if nvcc is missing) | OFF
#   | EMU: the CUDA backend built as host C++ against dg's CPU emulator of the CUDA runtime,
#     cuBLAS, cuDNN and NCCL (tests/emu), with no real CUDA header or library: the gpu tests
#     then run on the CPU. Test infrastructure only, never a real build.
# The build never needs a GPU: without CMAKE_CUDA_ARCHITECTURES we build for a fixed
# default list (Ampere and Hopper; CUDA 13 has no Volta) and print what was chosen.
set(DG_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set_property(CACHE DG_CUDA PROPERTY STRINGS AUTO ON OFF EMU)
set(DG_CUDA_DEFAULT_ARCHITECTURES "80;86;90" CACHE STRING
    "CUDA architectures used when CMAKE_CUDA_ARCHITECTURES is not given")

set(DG_HAVE_CUDA OFF)
set(DG_CUDA_EMU OFF)
if(DG_CUDA STREQUAL "EMU")
  set(DG_HAVE_CUDA ON)
  set(DG_CUDA_EMU ON)
  message(STATUS "dg: CUDA backend ON under the emulator (DG_CUDA=EMU, tests/emu): kernels run as CPU fibers")
elseif(NOT DG_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND DEFINED ENV{CUDAARCHS})
      set(CMAKE_CUDA_ARCHITECTURES $ENV{CUDAARCHS})
      set(_dg_arch_origin "from the CUDAARCHS environment variable")
    elseif(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES ${DG_CUDA_DEFAULT_ARCHITECTURES})
      set(_dg_arch_origin "dg default; set CMAKE_CUDA_ARCHITECTURES to choose")
    else()
      set(_dg_arch_origin "from CMAKE_CUDA_ARCHITECTURES")
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 knows no C++20 flag for nvcc; the .cu files need 17
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(DG_HAVE_CUDA ON)
    message(STATUS "dg: CUDA backend ON, nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES} (${_dg_arch_origin})")
  elseif(DG_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DG_CUDA=ON but no nvcc was found: install the CUDA toolkit or set CMAKE_CUDA_COMPILER")
  endif()
endif()
if(NOT DG_HAVE_CUDA)
  message(STATUS "dg: CUDA backend OFF (DG_CUDA=${DG_CUDA}); the CPU reference backend is built")
endif()
