// cuDNN convolutions: the algorithm queries (the maximum counts, the _v7 heuristics and
// Find*Ex), over the algorithms of cudnn_conv.cpp.
//
// Find*Ex blocks until done (as cuDNN's does), writes NaN into the output buffer it is handed
// and into the part of the workspace its algorithms use, and returns its results sorted by
// time, failures last.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cudnn_conv.h"

namespace dgemu {

namespace {

// Find's timing noise: DGEMU_FIND_SEED, else DGEMU_SEED, so that a run repeats; a test that
// needs two processes to time differently (as two runs on a GPU may) gives each its own.
uint64_t process_seed() {
  static const uint64_t s = [] {
    if (const char* e = std::getenv("DGEMU_FIND_SEED")) return uint64_t(std::strtoull(e, nullptr, 10));
    return config().seed;
  }();
  return s;
}

// The modelled time of algorithm `a` (microseconds), with a per-process, per-search factor.
float modelled_us(const Algo& a, const Geometry& g, bool noise, uint64_t search) {
  double t = 2.0 + a.cost * g.macs() * 1e-4;
  if (noise) {
    std::mt19937_64 r(process_seed() ^ (search * 0x2545f4914f6cdd1dull) ^ uint64_t(a.id + 1) * 0x9e37ull);
    t *= 0.6 + 0.8 * std::uniform_real_distribution<double>(0, 1)(r);
  }
  return float(t);
}

template <class Perf, class AlgoEnum>
void fill_results(Primitive prim, const Geometry& g, cudnnMathType_t math, bool timed, bool pointers_aligned,
                  size_t workspace_limit, int requested, int* returned, Perf* results) {
  static uint64_t searches = 0;
  const uint64_t search = ++searches;
  int n;
  const Algo* t = table(prim, &n);
  std::vector<Perf> all;
  for (int i = 0; i < n; i++) {
    const Algo& a = t[i];
    // A tensor-core algorithm appears twice where the math type allows TF32 (cuDNN's Find
    // "attempts all algorithms, including their CUDNN_TENSOR_OP_MATH and CUDNN_DEFAULT_MATH
    // versions"): with tensor ops, and as FMA, a little slower.
    for (bool tensor_op : {true, false}) {
      if (tensor_op && !tf32_for(a, math)) continue;
      Perf r{};
      r.algo = AlgoEnum(a.id);
      r.memory = workspace_bytes(prim, a, g);
      r.determinism = a.deterministic ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
      r.mathType = tensor_op ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
      r.time = modelled_us(a, g, timed, search * 2 + (tensor_op ? 0 : 1)) * (tensor_op || !tf32_for(a, math) ? 1e-3f : 1.2e-3f);
      r.status = CUDNN_STATUS_SUCCESS;
      if (!a.supports(g)) r.status = CUDNN_STATUS_NOT_SUPPORTED_SHAPE;
      else if (a.aligned16 && !pointers_aligned) r.status = CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER;
      else if (timed && r.memory > workspace_limit) r.status = CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED;
      if (r.status != CUDNN_STATUS_SUCCESS) r.time = -1.0f;
      all.push_back(r);
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const Perf& x, const Perf& y) {
    if ((x.status == CUDNN_STATUS_SUCCESS) != (y.status == CUDNN_STATUS_SUCCESS)) return x.status == CUDNN_STATUS_SUCCESS;
    return x.time < y.time;
  });
  *returned = std::min(requested, int(all.size()));
  for (int i = 0; i < *returned; i++) results[i] = all[size_t(i)];
}

cudnnStatus_t query_args(cudnnHandle_t handle, int requested, int* returned, const void* results, const char* call) {
  if (!live_cudnn(handle)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": not a live handle");
  if (requested <= 0 || !returned || !results)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": requestedAlgoCount " + std::to_string(requested) +
                                                  " or a null result pointer");
  return CUDNN_STATUS_SUCCESS;
}

// Find*Ex: blocks until the handle's stream is idle, "runs" every algorithm over the buffers,
// leaving NaN in the output buffer and the workspace.
template <class Perf, class AlgoEnum>
cudnnStatus_t find(Primitive prim, cudnnHandle_t handle, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                   cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, const void* a, const void* b,
                   void* out, int requested, int* returned, Perf* results, void* workspace, size_t workspace_bytes_) {
  const std::string call = std::string("cudnnFind") + (prim == Primitive::forward         ? "ConvolutionForward"
                                                       : prim == Primitive::backward_data ? "ConvolutionBackwardData"
                                                                                          : "ConvolutionBackwardFilter") +
                           "AlgorithmEx";
  Lock lock(device_mutex());
  if (cudnnStatus_t s = query_args(handle, requested, returned, results, call.c_str()); s) return s;
  Geometry g;
  if (cudnnStatus_t s = geometry(call.c_str(), x, w, conv, y, &g); s) return s;
  if (cudnnStatus_t s = check_buffers(call.c_str(), prim, g, a, b, out); s) return s;
  if (workspace_bytes_ && !check_device_range(workspace, workspace_bytes_).empty())
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, call + ": workspace: " + check_device_range(workspace, workspace_bytes_));
  Stream* s = stream_of(handle->stream, call.c_str());
  if (!s) return CUDNN_STATUS_BAD_PARAM;
  if (stream_capturing(s)) {
    forbid_in_capture(s, call);
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED, call + " while the stream is being captured");
  }
  synchronize_stream(s, call.c_str());
  const size_t out_bytes = 4 * (prim == Primitive::forward         ? size_t(g.N) * g.K * g.P * g.Q
                                : prim == Primitive::backward_data ? size_t(g.N) * g.C * g.H * g.W
                                                                   : size_t(g.K) * g.C * g.R * g.S);
  std::memset(out, 0xff, out_bytes);
  // The workspace as far as any algorithm would use it for this shape.
  if (workspace_bytes_) std::memset(workspace, 0xff, std::min(workspace_bytes_, input_bytes(prim, g)));
  const bool al = aligned(a) && aligned(b) && aligned(out) && (!workspace_bytes_ || aligned(workspace));
  fill_results<Perf, AlgoEnum>(prim, g, conv->math, true, al, workspace_bytes_, requested, returned, results);
  return CUDNN_STATUS_SUCCESS;
}

template <class Perf, class AlgoEnum>
cudnnStatus_t heuristics(Primitive prim, cudnnHandle_t handle, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                         cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, int requested, int* returned,
                         Perf* results, const char* call) {
  Lock lock(device_mutex());
  if (cudnnStatus_t s = query_args(handle, requested, returned, results, call); s) return s;
  Geometry g;
  if (cudnnStatus_t s = geometry(call, x, w, conv, y, &g); s) return s;
  fill_results<Perf, AlgoEnum>(prim, g, conv->math, false, true, ~size_t(0), requested, returned, results);
  return CUDNN_STATUS_SUCCESS;
}

// Every algorithm, twice for the tensor-core ones (with and without tensor ops).
int max_count(Primitive p) {
  int n;
  table(p, &n);
  return 2 * n;
}

}  // namespace

}  // namespace dgemu

using namespace dgemu;

extern "C" {

cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!live_cudnn(handle) || !count) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionForwardAlgorithmMaxCount");
  *count = max_count(Primitive::forward);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!live_cudnn(handle) || !count) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionBackwardDataAlgorithmMaxCount");
  *count = max_count(Primitive::backward_data);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  if (!live_cudnn(handle) || !count) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount");
  *count = max_count(Primitive::backward_filter);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                     const void* x, cudnnFilterDescriptor_t wDesc, const void* w,
                                                     cudnnConvolutionDescriptor_t convDesc,
                                                     cudnnTensorDescriptor_t yDesc, void* y, int requestedAlgoCount,
                                                     int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults,
                                                     void* workSpace, size_t workSpaceSizeInBytes) {
  return find<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      Primitive::forward, handle, xDesc, wDesc, convDesc, yDesc, x, w, y, requestedAlgoCount, returnedAlgoCount,
      perfResults, workSpace, workSpaceSizeInBytes);
}

cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(
    cudnnHandle_t handle, cudnnFilterDescriptor_t wDesc, const void* w, cudnnTensorDescriptor_t dyDesc,
    const void* dy, cudnnConvolutionDescriptor_t convDesc, cudnnTensorDescriptor_t dxDesc, void* dx,
    int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionBwdDataAlgoPerf_t* perfResults, void* workSpace,
    size_t workSpaceSizeInBytes) {
  return find<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      Primitive::backward_data, handle, dxDesc, wDesc, convDesc, dyDesc, dy, w, dx, requestedAlgoCount,
      returnedAlgoCount, perfResults, workSpace, workSpaceSizeInBytes);
}

cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(
    cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc, const void* x, cudnnTensorDescriptor_t dyDesc,
    const void* y, cudnnConvolutionDescriptor_t convDesc, cudnnFilterDescriptor_t dwDesc, void* dw,
    int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionBwdFilterAlgoPerf_t* perfResults,
    void* workSpace, size_t workSpaceSizeInBytes) {
  return find<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      Primitive::backward_filter, handle, xDesc, dwDesc, convDesc, dyDesc, x, y, dw, requestedAlgoCount,
      returnedAlgoCount, perfResults, workSpace, workSpaceSizeInBytes);
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                     cudnnFilterDescriptor_t wDesc,
                                                     cudnnConvolutionDescriptor_t convDesc,
                                                     cudnnTensorDescriptor_t yDesc, int requestedAlgoCount,
                                                     int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      Primitive::forward, handle, xDesc, wDesc, convDesc, yDesc, requestedAlgoCount, returnedAlgoCount, perfResults,
      "cudnnGetConvolutionForwardAlgorithm_v7");
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t handle, cudnnFilterDescriptor_t wDesc,
                                                          cudnnTensorDescriptor_t dyDesc,
                                                          cudnnConvolutionDescriptor_t convDesc,
                                                          cudnnTensorDescriptor_t dxDesc, int requestedAlgoCount,
                                                          int* returnedAlgoCount,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      Primitive::backward_data, handle, dxDesc, wDesc, convDesc, dyDesc, requestedAlgoCount, returnedAlgoCount,
      perfResults, "cudnnGetConvolutionBackwardDataAlgorithm_v7");
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                            cudnnTensorDescriptor_t dyDesc,
                                                            cudnnConvolutionDescriptor_t convDesc,
                                                            cudnnFilterDescriptor_t dwDesc, int requestedAlgoCount,
                                                            int* returnedAlgoCount,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      Primitive::backward_filter, handle, xDesc, dwDesc, convDesc, dyDesc, requestedAlgoCount, returnedAlgoCount,
      perfResults, "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
}

}  // extern "C"
