# Included by engine/CMakeLists.txt when the CUDA backend is built.
# dg's CUDA backend: the context (stream, cuDNN/cuBLAS handles), the timing, and the op rooms'
# CUDA bodies (kernels/<op>/*.cu). Its sources join dg_engine (one library: the op entries
# dispatch into these bodies, and these use the engine's context and arena).
set(dg_cuda_sources
  ${CMAKE_CURRENT_LIST_DIR}/cuda_context.cu
  ${CMAKE_CURRENT_LIST_DIR}/batch_staging.cu
  ${CMAKE_CURRENT_LIST_DIR}/cuda_graph.cu
  ${CMAKE_CURRENT_LIST_DIR}/timing.cu
  ${DG_OP_CUDA_SOURCES}
)
target_sources(dg_engine PRIVATE ${dg_cuda_sources})

if(DG_CUDA_EMU)
  # The same sources as host C++ against the emulator's headers (tests/emu/CMakeLists.txt).
  dg_emu_cuda_sources(${dg_cuda_sources})
  target_link_libraries(dg_engine PUBLIC dg_cuda_emu)
  target_compile_definitions(dg_engine PUBLIC DG_CUDA_EMU=1)
  return()
endif()

set(DG_CUDNN_ROOT "$ENV{CUDNN_ROOT}" CACHE PATH "Where cuDNN is (include/cudnn.h, lib/libcudnn.so), if not in the CUDA toolkit")
# Looked for under DG_CUDNN_ROOT, -DCUDNN_ROOT, then the CUDA toolkit, then the system. The
# PyTorch wheel (nvidia/cudnn) ships only libcudnn.so.9, hence the second name.
set(_dg_cudnn_roots ${DG_CUDNN_ROOT} ${CUDNN_ROOT})
list(TRANSFORM _dg_cudnn_roots APPEND /include OUTPUT_VARIABLE _dg_cudnn_include_hints)
find_path(DG_CUDNN_INCLUDE_DIR cudnn.h HINTS ${_dg_cudnn_include_hints} ${CUDAToolkit_INCLUDE_DIRS})
find_library(DG_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 HINTS ${_dg_cudnn_roots} ${CUDAToolkit_LIBRARY_DIR}
             PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
if(NOT DG_CUDNN_INCLUDE_DIR OR NOT DG_CUDNN_LIBRARY)
  message(FATAL_ERROR "dg's CUDA backend needs cuDNN 9: set CUDNN_ROOT (environment, or -DCUDNN_ROOT=... / "
                      "-DDG_CUDNN_ROOT=...) to the folder holding include/cudnn.h and lib/libcudnn.so, "
                      "or configure with -DDG_CUDA=OFF")
endif()
message(STATUS "dg: cuDNN ${DG_CUDNN_LIBRARY} (headers in ${DG_CUDNN_INCLUDE_DIR})")

target_include_directories(dg_engine PUBLIC ${DG_CUDNN_INCLUDE_DIR})
target_link_libraries(dg_engine PUBLIC CUDA::cudart CUDA::cublas ${DG_CUDNN_LIBRARY})
