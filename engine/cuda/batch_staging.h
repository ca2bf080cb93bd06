// The CUDA half of BatchUpload (engine/batch_upload.h): two pinned host buffers, two device
// staging buffers, a copy stream, and the events that order them against the compute stream.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/cuda_context.h"
#include "engine/tensor.h"

namespace dg {

struct CudaBatchStaging {
  // `batch`: the tensor every step reads, on cuda's device.
  CudaBatchStaging(CudaState& cuda, const Tensor& batch);
  ~CudaBatchStaging();
  CudaBatchStaging(const CudaBatchStaging&) = delete;
  CudaBatchStaging& operator=(const CudaBatchStaging&) = delete;

  // host -> pinned[slot] (the host) -> staging[slot] (copy stream) -> batch (compute stream).
  void next(const float* host);

 private:
  void release();

  CudaState& cuda_;
  Tensor batch_;
  size_t bytes_ = 0;
  cudaStream_t copy_stream_ = nullptr;
  float* pinned_[2] = {nullptr, nullptr};
  float* staging_[2] = {nullptr, nullptr};
  cudaEvent_t copied_[2] = {nullptr, nullptr};    // staging[slot] holds the batch (copy stream)
  cudaEvent_t consumed_[2] = {nullptr, nullptr};  // staging[slot] moved into batch (compute stream)
  int64_t uploads_ = 0;
};

}  // namespace dg
