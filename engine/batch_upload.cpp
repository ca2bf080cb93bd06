// BatchUpload (engine/batch_upload.h); its CUDA half is engine/cuda/batch_staging.cu.
#include "engine/batch_upload.h"

#ifdef DG_HAVE_CUDA
#include "engine/cuda/batch_staging.h"
#endif

namespace dg {

#ifndef DG_HAVE_CUDA
struct CudaBatchStaging {};
#endif

BatchUpload::BatchUpload(Context& ctx, Shape shape) : ctx_(ctx), batch_(ctx.alloc(shape)) {
#ifdef DG_HAVE_CUDA
  if (ctx.on_cuda()) cuda_ = std::make_unique<CudaBatchStaging>(ctx.cuda(), batch_);
#endif
}

BatchUpload::~BatchUpload() = default;

Tensor BatchUpload::next(const float* host) {
#ifdef DG_HAVE_CUDA
  if (cuda_) {
    cuda_->next(host);
    return batch_;
  }
#endif
  ctx_.upload(batch_, host);
  return batch_;
}

}  // namespace dg
