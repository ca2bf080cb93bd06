// cuDNN handles and descriptors (cuDNN API reference: cudnnCreate, cudnnSet*Descriptor...).
// Only the layout dg uses is supported: 4-d NCHW float tensors and filters, 2-d convolutions;
// anything else is CUDNN_STATUS_NOT_SUPPORTED, and impossible values CUDNN_STATUS_BAD_PARAM.
#include <set>

#include "cudnn_emu.h"

namespace dgemu {

namespace {
struct Objects {
  std::set<const void*> handles, descs;
};
Objects& objects() {
  static Objects* o = new Objects;
  return *o;
}
thread_local std::string tl_why;
thread_local cudnnStatus_t tl_why_status = CUDNN_STATUS_SUCCESS;
}  // namespace

bool live_cudnn(cudnnHandle_t h) { return objects().handles.count(h) != 0; }
bool live_desc(const void* d) { return objects().descs.count(d) != 0; }
size_t live_cudnn_objects() { return objects().handles.size() + objects().descs.size(); }

cudnnStatus_t cudnn_fail(cudnnStatus_t status, const std::string& why) {
  tl_why = why;
  tl_why_status = status;
  return status;
}

}  // namespace dgemu

using namespace dgemu;

namespace {

template <class T>
cudnnStatus_t create(T** desc) {
  Lock lock(device_mutex());
  if (!desc) return cudnn_fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "a descriptor create call got a null pointer");
  *desc = new T;
  objects().descs.insert(*desc);
  return CUDNN_STATUS_SUCCESS;
}

template <class T>
cudnnStatus_t destroy(T* desc) {
  Lock lock(device_mutex());
  if (!desc) return CUDNN_STATUS_SUCCESS;
  if (!objects().descs.erase(desc)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "destroying a descriptor that is not live");
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t check_layout(const char* call, cudnnTensorFormat_t format, cudnnDataType_t type) {
  if (type != CUDNN_DATA_FLOAT)
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE, std::string(call) + ": the emulator has float data only");
  if (format != CUDNN_TENSOR_NCHW)
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED_LAYOUT, std::string(call) + ": the emulator has NCHW only");
  return CUDNN_STATUS_SUCCESS;
}

std::string dims4(int a, int b, int c, int d) {
  return "(" + std::to_string(a) + ", " + std::to_string(b) + ", " + std::to_string(c) + ", " + std::to_string(d) + ")";
}

}  // namespace

extern "C" {

size_t cudnnGetVersion(void) { return CUDNN_VERSION; }

const char* cudnnGetErrorString(cudnnStatus_t status) {
  thread_local std::string text;
  switch (status) {
    case CUDNN_STATUS_SUCCESS: text = "CUDNN_STATUS_SUCCESS"; break;
    case CUDNN_STATUS_NOT_INITIALIZED: text = "CUDNN_STATUS_NOT_INITIALIZED"; break;
    case CUDNN_STATUS_BAD_PARAM: text = "CUDNN_STATUS_BAD_PARAM"; break;
    case CUDNN_STATUS_BAD_PARAM_NULL_POINTER: text = "CUDNN_STATUS_BAD_PARAM_NULL_POINTER"; break;
    case CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER: text = "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER"; break;
    case CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH: text = "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH"; break;
    case CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH: text = "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH"; break;
    case CUDNN_STATUS_NOT_SUPPORTED: text = "CUDNN_STATUS_NOT_SUPPORTED"; break;
    case CUDNN_STATUS_NOT_SUPPORTED_SHAPE: text = "CUDNN_STATUS_NOT_SUPPORTED_SHAPE"; break;
    case CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE: text = "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE"; break;
    case CUDNN_STATUS_NOT_SUPPORTED_LAYOUT: text = "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT"; break;
    case CUDNN_STATUS_INTERNAL_ERROR: text = "CUDNN_STATUS_INTERNAL_ERROR"; break;
    case CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED: text = "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED"; break;
    case CUDNN_STATUS_EXECUTION_FAILED: text = "CUDNN_STATUS_EXECUTION_FAILED"; break;
    default: text = "CUDNN_STATUS_UNKNOWN (" + std::to_string(int(status)) + ")";
  }
  if (status == tl_why_status && !tl_why.empty()) text += " [dgemu: " + tl_why + "]";
  return text.c_str();
}

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
  Lock lock(device_mutex());
  if (!handle) return cudnn_fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "cudnnCreate: handle is null");
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return cudnn_fail(CUDNN_STATUS_NOT_INITIALIZED, "cudnnCreate: no CUDA runtime");
  *handle = new dgemu_cudnn;
  objects().handles.insert(*handle);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  Lock lock(device_mutex());
  if (!objects().handles.erase(handle)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnDestroy: not a live handle");
  delete handle;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!live_cudnn(handle)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetStream: not a live handle");
  if (!stream_of(stream, "cudnnSetStream")) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetStream: not a live stream");
  handle->stream = stream;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t* stream) {
  Lock lock(device_mutex());
  if (!live_cudnn(handle) || !stream) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetStream");
  *stream = handle->stream;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* desc) { return create(desc); }
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t desc) { return destroy(desc); }
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* desc) { return create(desc); }
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t desc) { return destroy(desc); }
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* desc) { return create(desc); }
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t desc) { return destroy(desc); }

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t desc, cudnnTensorFormat_t format,
                                         cudnnDataType_t type, int n, int c, int h, int w) {
  Lock lock(device_mutex());
  if (!live_desc(desc)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetTensor4dDescriptor: not a live descriptor");
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetTensor4dDescriptor: dimensions " + dims4(n, c, h, w));
  if (cudnnStatus_t s = check_layout("cudnnSetTensor4dDescriptor", format, type); s != CUDNN_STATUS_SUCCESS) return s;
  *desc = {true, n, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t desc, cudnnDataType_t type,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w) {
  Lock lock(device_mutex());
  if (!live_desc(desc)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetFilter4dDescriptor: not a live descriptor");
  if (k <= 0 || c <= 0 || h <= 0 || w <= 0)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetFilter4dDescriptor: dimensions " + dims4(k, c, h, w));
  if (cudnnStatus_t s = check_layout("cudnnSetFilter4dDescriptor", format, type); s != CUDNN_STATUS_SUCCESS) return s;
  *desc = {true, k, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t desc, int pad_h, int pad_w, int u, int v,
                                              int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute_type) {
  Lock lock(device_mutex());
  if (!live_desc(desc)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetConvolution2dDescriptor: not a live descriptor");
  if (pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dilation_h <= 0 || dilation_w <= 0)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetConvolution2dDescriptor: padding " + std::to_string(pad_h) + "," +
                                                  std::to_string(pad_w) + " stride " + std::to_string(u) + "," +
                                                  std::to_string(v) + " dilation " + std::to_string(dilation_h) + "," +
                                                  std::to_string(dilation_w));
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetConvolution2dDescriptor: mode " + std::to_string(int(mode)));
  if (compute_type != CUDNN_DATA_FLOAT)
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE, "cudnnSetConvolution2dDescriptor: float compute only");
  const cudnnMathType_t math = desc->math;
  *desc = {true, pad_h, pad_w, u, v, dilation_h, dilation_w, mode, math};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t math) {
  Lock lock(device_mutex());
  if (!live_desc(desc)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetConvolutionMathType: not a live descriptor");
  if (math < CUDNN_DEFAULT_MATH || math > CUDNN_FMA_MATH)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetConvolutionMathType: math type " + std::to_string(int(math)));
  desc->math = math;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t* math) {
  Lock lock(device_mutex());
  if (!live_desc(desc) || !math) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionMathType");
  *math = desc->math;
  return CUDNN_STATUS_SUCCESS;
}

// Output size per dimension: 1 + (in + 2 pad - (dilation (filter - 1) + 1)) / stride.
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t x,
                                                    cudnnFilterDescriptor_t w, int* n, int* c, int* h, int* wd) {
  Lock lock(device_mutex());
  if (!live_desc(conv) || !live_desc(x) || !live_desc(w) || !conv->set || !x->set || !w->set)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolution2dForwardOutputDim: a descriptor is not set");
  if (x->c != w->c)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolution2dForwardOutputDim: input has " + std::to_string(x->c) +
                                                  " channels, the filter " + std::to_string(w->c));
  const int eh = conv->dil_h * (w->h - 1) + 1, ew = conv->dil_w * (w->w - 1) + 1;
  const int oh = 1 + (x->h + 2 * conv->pad_h - eh) / conv->u, ow = 1 + (x->w + 2 * conv->pad_w - ew) / conv->v;
  if (x->h + 2 * conv->pad_h < eh || x->w + 2 * conv->pad_w < ew)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolution2dForwardOutputDim: the filter is larger than the padded input");
  if (n) *n = x->n;
  if (c) *c = w->k;
  if (h) *h = oh;
  if (wd) *wd = ow;
  return CUDNN_STATUS_SUCCESS;
}

}  // extern "C"
