#include "engine/context.h"

#include <algorithm>
#include <cstring>

#ifdef DG_HAVE_CUDA
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_graph.h"
#endif

namespace dg {

#ifndef DG_HAVE_CUDA
struct CudaState {};
bool cuda_built() { return false; }
bool cuda_available() { return false; }
int cuda_device_count() { return 0; }
#endif

Context::Context(ContextOptions opt) : opt_(opt) {
  if (opt_.device == Device::cuda) {
#ifdef DG_HAVE_CUDA
    cuda_ = std::make_unique<CudaState>(opt_.cuda_device, opt_.strict_fp32);
    cuda_->deterministic_convs = opt_.deterministic;
    arena_ = std::make_unique<Arena>(cuda_->device_backing(), opt_.arena_block_bytes);
#else
    DG_FAIL("this dg was built without the CUDA backend (configure with nvcc present or -DDG_CUDA=ON)");
#endif
  } else {
    arena_ = std::make_unique<Arena>(host_backing(), opt_.arena_block_bytes);
  }
}

// The arena must die before the CUDA state that backs it.
Context::~Context() { arena_.reset(); }

CudaState& Context::cuda() {
  DG_CHECK(cuda_ != nullptr, "a CUDA operation was asked of a ", device_name(device()), " context");
  return *cuda_;
}

Tensor Context::alloc(Shape s) {
  Tensor t;
  t.shape = s;
  t.device = device();
  t.data = static_cast<float*>(arena_->allocate(size_t(s.numel()) * sizeof(float)));
  return t;
}

Tensor Context::zeros(Shape s) {
  Tensor t = alloc(s);
  fill(t, 0.0f);
  return t;
}

#ifdef DG_HAVE_CUDA
void Context::upload(Tensor dst, const float* src) {
  if (on_cuda()) return cuda_->copy_to_device(dst.data, src, size_t(dst.bytes()));
  std::memcpy(dst.data, src, size_t(dst.bytes()));
}
void Context::download(const Tensor& src, float* dst) {
  if (on_cuda()) return cuda_->copy_to_host(dst, src.data, size_t(src.bytes()));
  std::memcpy(dst, src.data, size_t(src.bytes()));
}
void Context::fill(Tensor t, float value) {
  if (on_cuda()) return cuda_->fill(t.data, t.numel(), value);
  for (int64_t i = 0; i < t.numel(); i++) t.data[i] = value;
}
void Context::synchronize() {
  if (on_cuda()) cuda_->synchronize();
}
void Context::when_any_nonzero(const Tensor& t, const std::function<void()>& body) {
  if (on_cuda()) return cuda_when_any_nonzero(*cuda_, t.data, t.numel(), body);
  if (std::any_of(t.data, t.data + t.numel(), [](float v) { return v != 0.0f; })) body();
}
#else
void Context::when_any_nonzero(const Tensor& t, const std::function<void()>& body) {
  if (std::any_of(t.data, t.data + t.numel(), [](float v) { return v != 0.0f; })) body();
}
void Context::upload(Tensor dst, const float* src) { std::memcpy(dst.data, src, size_t(dst.bytes())); }
void Context::download(const Tensor& src, float* dst) { std::memcpy(dst, src.data, size_t(src.bytes())); }
void Context::fill(Tensor t, float value) {
  for (int64_t i = 0; i < t.numel(); i++) t.data[i] = value;
}
void Context::synchronize() {}
#endif

}  // namespace dg
