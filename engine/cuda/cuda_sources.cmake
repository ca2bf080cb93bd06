# Included by engine/CMakeLists.txt when the CUDA backend is built.
# dg's CUDA backend: the context (stream, cuDNN/cuBLAS handles), the cuDNN convolutions and
# the custom kernels of kernels/. Its sources join dg_engine (one library: the CPU op files
# dispatch into these twins, and these use the engine's context and arena).
set(DG_CUDNN_ROOT "$ENV{CUDNN_ROOT}" CACHE PATH "Where cuDNN is (include/cudnn.h, lib/libcudnn.so), if not in the CUDA toolkit")
find_path(DG_CUDNN_INCLUDE_DIR cudnn.h HINTS ${DG_CUDNN_ROOT}/include ${CUDAToolkit_INCLUDE_DIRS})
find_library(DG_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 HINTS ${DG_CUDNN_ROOT}/lib ${DG_CUDNN_ROOT}/lib64 ${CUDAToolkit_LIBRARY_DIR})
if(NOT DG_CUDNN_INCLUDE_DIR OR NOT DG_CUDNN_LIBRARY)
  message(FATAL_ERROR "dg's CUDA backend needs cuDNN 9: set CUDNN_ROOT (or -DDG_CUDNN_ROOT=...) to the folder "
                      "holding include/cudnn.h and lib/libcudnn.so, or configure with -DDG_CUDA=OFF")
endif()
message(STATUS "dg: cuDNN ${DG_CUDNN_LIBRARY}")

target_sources(dg_engine PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/cuda_context.cu
  ${CMAKE_CURRENT_LIST_DIR}/conv_cudnn.cu
  ${PROJECT_SOURCE_DIR}/kernels/elementwise.cu
  ${PROJECT_SOURCE_DIR}/kernels/losses.cu
  ${PROJECT_SOURCE_DIR}/kernels/adam.cu
  ${PROJECT_SOURCE_DIR}/kernels/batchnorm.cu
)
target_include_directories(dg_engine PUBLIC ${DG_CUDNN_INCLUDE_DIR})
target_link_libraries(dg_engine PUBLIC CUDA::cudart CUDA::cublas ${DG_CUDNN_LIBRARY})
