// Error checks for every CUDA, cuDNN and cuBLAS call: on failure a dg::Error names the
// call, its file:line and the library's own error string.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "engine/error.h"

#define DG_CUDA_CHECK(call)                                                                   \
  do {                                                                                        \
    cudaError_t dg_err_ = (call);                                                             \
    if (dg_err_ != cudaSuccess) ::dg::fail_at(__FILE__, __LINE__, #call, ": ", cudaGetErrorString(dg_err_)); \
  } while (0)

#define DG_CUDNN_CHECK(call)                                                                  \
  do {                                                                                        \
    cudnnStatus_t dg_st_ = (call);                                                            \
    if (dg_st_ != CUDNN_STATUS_SUCCESS) ::dg::fail_at(__FILE__, __LINE__, #call, ": ", cudnnGetErrorString(dg_st_)); \
  } while (0)

#define DG_CUBLAS_CHECK(call)                                                                 \
  do {                                                                                        \
    cublasStatus_t dg_st_ = (call);                                                           \
    if (dg_st_ != CUBLAS_STATUS_SUCCESS) ::dg::fail_at(__FILE__, __LINE__, #call, ": ", cublasGetStatusString(dg_st_)); \
  } while (0)

// After a kernel launch: reports a bad launch configuration at the launch site.
#define DG_CUDA_CHECK_LAUNCH() DG_CUDA_CHECK(cudaGetLastError())
