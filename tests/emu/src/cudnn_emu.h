// The cuDNN fake's objects, shared by its source files.
#pragma once
#include <cudnn.h>

#include <string>

#include "emu.h"

struct dgemu_cudnn {
  cudaStream_t stream = nullptr;
};
struct dgemu_tensor_desc {
  bool set = false;
  int n = 0, c = 0, h = 0, w = 0;
};
struct dgemu_filter_desc {
  bool set = false;
  int k = 0, c = 0, h = 0, w = 0;
};
struct dgemu_conv_desc {
  bool set = false;
  int pad_h = 0, pad_w = 0, u = 1, v = 1, dil_h = 1, dil_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

namespace dgemu {

bool live_cudnn(cudnnHandle_t h);
bool live_desc(const void* desc);  // any descriptor kind
// Records why a call failed (cudnnGetErrorString then shows it) and returns `status`.
cudnnStatus_t cudnn_fail(cudnnStatus_t status, const std::string& why);
size_t live_cudnn_objects();

}  // namespace dgemu
