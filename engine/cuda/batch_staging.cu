// CudaBatchStaging (engine/cuda/batch_staging.h). Upload n uses slot n % 2:
//   host:          wait for copied[slot] of upload n - 2 (its pinned buffer is free), then
//                  memcpy the batch into pinned[slot]
//   copy stream:   wait for consumed[slot] of upload n - 2 (staging[slot] is free), copy
//                  pinned[slot] -> staging[slot], record copied[slot]
//   compute stream: wait for copied[slot], copy staging[slot] -> batch, record consumed[slot]
// The host never waits for the compute stream: the one wait is for a copy two uploads old,
// which itself waits only for the compute stream's move of four uploads ago.
#include "engine/cuda/batch_staging.h"

#include <cstring>

#include "engine/cuda/cuda_check.h"
#include "engine/error.h"

namespace dg {

CudaBatchStaging::CudaBatchStaging(CudaState& cuda, const Tensor& batch)
    : cuda_(cuda), batch_(batch), bytes_(size_t(batch.bytes())) {
  try {
    DG_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking));
    for (int i = 0; i < 2; i++) {
      DG_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&pinned_[i]), bytes_));
      DG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&staging_[i]), bytes_));
      DG_CUDA_CHECK(cudaEventCreateWithFlags(&copied_[i], cudaEventDisableTiming));
      DG_CUDA_CHECK(cudaEventCreateWithFlags(&consumed_[i], cudaEventDisableTiming));
    }
  } catch (...) {
    release();  // a throwing constructor runs no destructor
    throw;
  }
}

CudaBatchStaging::~CudaBatchStaging() { release(); }

void CudaBatchStaging::release() {
  // Nothing may still be copying out of or into the buffers freed below.
  if (copy_stream_) cudaStreamSynchronize(copy_stream_);
  if (cuda_.stream) cudaStreamSynchronize(cuda_.stream);
  for (int i = 0; i < 2; i++) {
    if (consumed_[i]) cudaEventDestroy(consumed_[i]);
    if (copied_[i]) cudaEventDestroy(copied_[i]);
    if (staging_[i]) cudaFree(staging_[i]);
    if (pinned_[i]) cudaFreeHost(pinned_[i]);
    consumed_[i] = copied_[i] = nullptr;
    staging_[i] = pinned_[i] = nullptr;
  }
  if (copy_stream_) cudaStreamDestroy(copy_stream_);
  copy_stream_ = nullptr;
}

void CudaBatchStaging::next(const float* host) {
  const int slot = int(uploads_ % 2);
  // (A kernel that faulted some steps ago surfaces here, at this wait: the message names this
  // call, not the kernel; DG_CUDA_CHECK_LAUNCH names launch errors where they happen.)
  if (uploads_ >= 2) DG_CUDA_CHECK(cudaEventSynchronize(copied_[slot]));
  std::memcpy(pinned_[slot], host, bytes_);
  if (uploads_ >= 2) DG_CUDA_CHECK(cudaStreamWaitEvent(copy_stream_, consumed_[slot], 0));
  DG_CUDA_CHECK(cudaMemcpyAsync(staging_[slot], pinned_[slot], bytes_, cudaMemcpyHostToDevice, copy_stream_));
  DG_CUDA_CHECK(cudaEventRecord(copied_[slot], copy_stream_));
  DG_CUDA_CHECK(cudaStreamWaitEvent(cuda_.stream, copied_[slot], 0));
  DG_CUDA_CHECK(cudaMemcpyAsync(batch_.data, staging_[slot], bytes_, cudaMemcpyDeviceToDevice, cuda_.stream));
  DG_CUDA_CHECK(cudaEventRecord(consumed_[slot], cuda_.stream));
  uploads_++;
}

}  // namespace dg
