# The op rooms: one folder per op (or op family) in kernels/, registered by this one list.
# A room kernels/<op>/ holds <op>.h (the contract), <op>.cpp (the entry: checks, dispatch),
# <op>_cpu.cpp and further .cpp files (the CPU body), .cu files (the CUDA body), *_math.h
# (per-element math both bodies share), <op>_test.cpp (CPU tests), <op>_gpu_test.cpp (GPU vs
# CPU) and <op>_bench.cpp (dgbench kernels cases, `void bench_<op>(KernelBench&)`). Included
# by the top CMakeLists.txt: the lists below are seen by engine/, tests/ and bench/.
set(DG_OPS activation adam batchnorm bce conv elementwise generator_loss image_ops linear random softmax)

set(DG_OP_SOURCES)       # into dg_engine
set(DG_OP_CUDA_SOURCES)  # into dg_engine when the CUDA backend is built
set(DG_OP_TESTS)         # test_ops (label cpu)
set(DG_OP_GPU_TESTS)     # test_gpu (label gpu)
set(DG_OP_BENCHES)       # dgbench (bench/dg_bench)
set(DG_OP_BENCH_NAMES)
foreach(op ${DG_OPS})
  set(room ${CMAKE_CURRENT_LIST_DIR}/${op})
  if(NOT EXISTS ${room}/${op}.h OR NOT EXISTS ${room}/${op}.cpp)
    message(FATAL_ERROR "kernels/ops.cmake: the room kernels/${op}/ needs ${op}.h and ${op}.cpp")
  endif()
  file(GLOB cpp_files CONFIGURE_DEPENDS ${room}/*.cpp)
  file(GLOB cu_files CONFIGURE_DEPENDS ${room}/*.cu)
  foreach(f ${cpp_files})
    if(f MATCHES "_gpu_test\\.cpp$")
      list(APPEND DG_OP_GPU_TESTS ${f})
    elseif(f MATCHES "_test\\.cpp$")
      list(APPEND DG_OP_TESTS ${f})
    elseif(f MATCHES "_bench\\.cpp$")
      list(APPEND DG_OP_BENCHES ${f})
      list(APPEND DG_OP_BENCH_NAMES ${op})
    else()
      list(APPEND DG_OP_SOURCES ${f})
    endif()
  endforeach()
  list(APPEND DG_OP_CUDA_SOURCES ${cu_files})
endforeach()
