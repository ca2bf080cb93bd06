// BatchUpload: the training batch of each step onto the context's device without the host
// waiting for the device (issue: the GPU step with no host synchronisation).
//
// On CUDA each next() copies the host batch into one of two pinned buffers, sends it to a
// device staging buffer on a copy stream of its own, and has the compute stream wait for that
// copy (an event) and move it into the one batch tensor the step reads, so a step and the copy
// of the next batch overlap and the batch tensor never moves (a captured graph can read it).
// Events order the reuse of both buffers: a pinned buffer is refilled once its copy is done
// (the one wait the host makes, for the copy of two batches ago), a staging buffer once the
// compute stream has moved it out. On the CPU next() copies into the batch tensor.
#pragma once
#include <memory>

#include "engine/context.h"

namespace dg {

struct CudaBatchStaging;  // engine/cuda/batch_staging.h

class BatchUpload {
 public:
  // `shape`: the batch (B, C, S, S); the tensors live in ctx's arena from here on.
  BatchUpload(Context& ctx, Shape shape);
  ~BatchUpload();
  BatchUpload(const BatchUpload&) = delete;
  BatchUpload& operator=(const BatchUpload&) = delete;

  // Starts the upload of `host` (shape's floats; read before next() returns) and returns the
  // batch tensor, which holds it for the work queued after this call on ctx's stream: always
  // the same tensor.
  Tensor next(const float* host);

 private:
  Context& ctx_;
  Tensor batch_;
  std::unique_ptr<CudaBatchStaging> cuda_;  // null on the CPU
};

}  // namespace dg
