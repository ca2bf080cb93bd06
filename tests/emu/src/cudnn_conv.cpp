// cuDNN convolutions: the algorithms, the checks of a call's arguments, the workspace sizes and
// the calls that run a convolution (forward, backward-data, backward-filter). The loops:
// cudnn_conv_arithmetic.cpp; the algorithm queries and Find*Ex: cudnn_conv_find.cpp.
//
// The emulator's algorithms stand in for cuDNN's by what code can observe of them:
//  - which shapes each supports (FFT and Winograd kernels need stride 1, Winograd 3x3 filters;
//    FWD_ALGO_DIRECT and BWD_FILTER_ALGO_WINOGRAD are never supported, as in cuDNN);
//  - the order in which each sums a result's products (in order, reversed, pairwise, in
//    chunks of 4 or 8): two algorithms give different bits, so a choice that differs between
//    two runs shows in a bit-for-bit comparison;
//  - determinism: BWD_DATA_ALGO_0 and BWD_FILTER_ALGO_0/3 are non-deterministic in cuDNN
//    (atomics); here they sum in an order drawn anew at every call;
//  - workspace: the algorithms that need one copy their input into it and read it from there;
//    a smaller workspace than the algorithm needs is CUDNN_STATUS_BAD_PARAM;
//  - math: with CUDNN_DEFAULT_MATH or CUDNN_TENSOR_OP_MATH the tensor-core algorithms round
//    their inputs to TF32; CUDNN_FMA_MATH never does; where TF32 is allowed Find and the
//    heuristics list such an algorithm twice, with tensor ops and as FMA;
//  - alignment: the FFT, Winograd and precomputed-GEMM algorithms need every buffer 16-byte
//    aligned (vector loads); Find reports them unsupported for other pointers, and running one
//    on them is CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER;
//  - timing: Find's times come from a cost model times a factor drawn per search from
//    DGEMU_FIND_SEED (default DGEMU_SEED): real timings vary from run to run, so two processes
//    with different seeds may rank algorithms differently; the _v7 heuristics rank by the cost
//    model alone.
#include <string>

#include "cudnn_conv.h"

namespace dgemu {

namespace {

bool always(const Geometry&) { return true; }
bool never(const Geometry&) { return false; }
bool unit_stride(const Geometry& g) { return g.u == 1 && g.v == 1 && g.dil_h == 1 && g.dil_w == 1; }
bool winograd3x3(const Geometry& g) { return unit_stride(g) && g.R == 3 && g.S == 3; }

const Algo kForward[] = {
    {0, "IMPLICIT_GEMM", Sum::in_order, true, false, false, 0, 1.00, always},
    {1, "IMPLICIT_PRECOMP_GEMM", Sum::chunks4, true, true, true, 0, 0.95, always},
    {2, "GEMM", Sum::in_order, true, false, false, 1, 1.05, always},
    {3, "DIRECT", Sum::in_order, true, false, false, 0, 1.00, never},
    {4, "FFT", Sum::pairwise, true, false, true, 1, 0.90, unit_stride},
    {5, "FFT_TILING", Sum::reversed, true, false, true, 1, 0.97, unit_stride},
    {6, "WINOGRAD", Sum::chunks8, true, false, true, 0, 0.92, winograd3x3},
    {7, "WINOGRAD_NONFUSED", Sum::pairwise, true, true, true, 1, 0.93, winograd3x3},
};
const Algo kBackwardData[] = {
    {0, "ALGO_0", Sum::shuffled, false, false, false, 0, 0.90, always},
    {1, "ALGO_1", Sum::in_order, true, true, false, 0, 1.00, always},
    {2, "FFT", Sum::pairwise, true, false, true, 1, 0.95, unit_stride},
    {3, "FFT_TILING", Sum::reversed, true, false, true, 1, 0.98, unit_stride},
    {4, "WINOGRAD", Sum::chunks8, true, false, true, 0, 0.93, winograd3x3},
    {5, "WINOGRAD_NONFUSED", Sum::chunks4, true, true, true, 1, 0.96, winograd3x3},
};
const Algo kBackwardFilter[] = {
    {0, "ALGO_0", Sum::shuffled, false, false, false, 0, 0.90, always},
    {1, "ALGO_1", Sum::in_order, true, true, false, 0, 1.00, always},
    {2, "FFT", Sum::pairwise, true, false, true, 1, 0.95, unit_stride},
    {3, "ALGO_3", Sum::shuffled, false, false, false, 1, 0.92, always},
    {4, "WINOGRAD", Sum::in_order, true, false, false, 0, 1.00, never},
    {5, "WINOGRAD_NONFUSED", Sum::chunks8, true, true, true, 1, 0.97, winograd3x3},
    {6, "FFT_TILING", Sum::reversed, true, false, true, 1, 0.99, unit_stride},
};

}  // namespace

const Algo* table(Primitive p, int* count) {
  switch (p) {
    case Primitive::forward: *count = 8; return kForward;
    case Primitive::backward_data: *count = 6; return kBackwardData;
    default: *count = 7; return kBackwardFilter;
  }
}

// ---- arguments ----

cudnnStatus_t geometry(const char* call, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                       cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, Geometry* g) {
  if (!live_desc(x) || !live_desc(w) || !live_desc(conv) || !live_desc(y) || !x->set || !w->set || !conv->set || !y->set)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": a descriptor is not live or not set");
  *g = {x->n, x->c, x->h, x->w, w->k, w->h, w->w, y->h, y->w, conv->pad_h, conv->pad_w, conv->u, conv->v,
        conv->dil_h, conv->dil_w, conv->mode == CUDNN_CONVOLUTION};
  const int eh = g->dil_h * (g->R - 1) + 1, ew = g->dil_w * (g->S - 1) + 1;
  const int P = g->H + 2 * g->pad_h >= eh ? 1 + (g->H + 2 * g->pad_h - eh) / g->u : 0;
  const int Q = g->W + 2 * g->pad_w >= ew ? 1 + (g->W + 2 * g->pad_w - ew) / g->v : 0;
  if (x->c != w->c || y->n != x->n || y->c != w->k || y->h != P || y->w != Q)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM,
                      std::string(call) + ": x (" + std::to_string(x->n) + "," + std::to_string(x->c) + "," +
                          std::to_string(x->h) + "," + std::to_string(x->w) + ") * w (" + std::to_string(w->k) + "," +
                          std::to_string(w->c) + "," + std::to_string(w->h) + "," + std::to_string(w->w) +
                          ") gives (" + std::to_string(x->n) + "," + std::to_string(w->k) + "," + std::to_string(P) +
                          "," + std::to_string(Q) + "), not the y descriptor's (" + std::to_string(y->n) + "," +
                          std::to_string(y->c) + "," + std::to_string(y->h) + "," + std::to_string(y->w) + ")");
  return CUDNN_STATUS_SUCCESS;
}

size_t input_bytes(Primitive p, const Geometry& g) {
  const size_t x = size_t(g.N) * g.C * g.H * g.W, y = size_t(g.N) * g.K * g.P * g.Q;
  return 4 * (p == Primitive::backward_data ? y : x);
}
size_t workspace_bytes(Primitive p, const Algo& a, const Geometry& g) { return a.workspace ? input_bytes(p, g) : 0; }
bool tf32_for(const Algo& a, cudnnMathType_t math) { return a.tensor_ops && math != CUDNN_FMA_MATH; }

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// ---- checks shared by the execution calls ----

namespace {
std::string check_buffer(const char* what, const void* p, size_t bytes) {
  std::string why = check_device_range(p, bytes);
  return why.empty() ? "" : std::string(what) + ": " + why;
}
}  // namespace

cudnnStatus_t check_buffers(const char* call, Primitive prim, const Geometry& g, const void* a, const void* b,
                            const void* out) {
  const size_t x = 4 * size_t(g.N) * g.C * g.H * g.W, w = 4 * size_t(g.K) * g.C * g.R * g.S,
               y = 4 * size_t(g.N) * g.K * g.P * g.Q;
  const size_t a_bytes = prim == Primitive::backward_data ? y : x;
  const size_t b_bytes = prim == Primitive::forward ? w : prim == Primitive::backward_data ? w : y;
  const size_t out_bytes = prim == Primitive::forward ? y : prim == Primitive::backward_data ? x : w;
  for (const std::string& why : {check_buffer("input", a, a_bytes), check_buffer("second input", b, b_bytes),
                                 check_buffer("output", out, out_bytes)})
    if (!why.empty()) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": " + why);
  return CUDNN_STATUS_SUCCESS;
}

namespace {

const char* primitive_name(Primitive p) {
  return p == Primitive::forward ? "cudnnConvolutionForward"
         : p == Primitive::backward_data ? "cudnnConvolutionBackwardData"
                                         : "cudnnConvolutionBackwardFilter";
}

cudnnStatus_t workspace_size(Primitive prim, cudnnHandle_t handle, cudnnTensorDescriptor_t x,
                             cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y,
                             int algo, size_t* bytes, const char* call) {
  Lock lock(device_mutex());
  if (!live_cudnn(handle) || !bytes) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": bad handle or size pointer");
  Geometry g;
  if (cudnnStatus_t s = geometry(call, x, w, conv, y, &g); s) return s;
  int n;
  const Algo* t = table(prim, &n);
  if (algo < 0 || algo >= n) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": algorithm " + std::to_string(algo));
  if (!t[algo].supports(g))
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED, std::string(call) + ": algorithm " + t[algo].name + " does not support this shape");
  *bytes = workspace_bytes(prim, t[algo], g);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t convolve(Primitive prim, cudnnHandle_t handle, const void* alpha, cudnnTensorDescriptor_t x,
                       cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y,
                       int algo, const void* a, const void* b, void* workspace, size_t workspace_bytes_,
                       const void* beta, void* out) {
  const char* call = primitive_name(prim);
  Lock lock(device_mutex());
  if (!live_cudnn(handle)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": not a live handle");
  if (!alpha || !beta) return cudnn_fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, std::string(call) + ": alpha or beta is null");
  Geometry g;
  if (cudnnStatus_t s = geometry(call, x, w, conv, y, &g); s) return s;
  int n;
  const Algo* t = table(prim, &n);
  if (algo < 0 || algo >= n) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": algorithm " + std::to_string(algo));
  const Algo& A = t[algo];
  if (!A.supports(g))
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED, std::string(call) + ": algorithm " + A.name + " does not support this shape");
  if (cudnnStatus_t s = check_buffers(call, prim, g, a, b, out); s) return s;
  const size_t need = workspace_bytes(prim, A, g);
  if (workspace_bytes_ < need)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": algorithm " + A.name + " needs " +
                                                  std::to_string(need) + " bytes of workspace, got " +
                                                  std::to_string(workspace_bytes_));
  if (need && !check_device_range(workspace, need).empty())
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": workspace: " + check_device_range(workspace, need));
  if (A.aligned16 && !(aligned(a) && aligned(b) && aligned(out) && (!need || aligned(workspace))))
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER,
                      std::string(call) + ": algorithm " + A.name + " needs 16-byte aligned buffers; got " + hex(a) +
                          ", " + hex(b) + ", " + hex(out));
  Stream* s = stream_of(handle->stream, call);
  if (!s) return CUDNN_STATUS_BAD_PARAM;
  Run r{prim, g, A, tf32_for(A, conv->math), *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
        static_cast<const float*>(a), static_cast<const float*>(b), static_cast<float*>(out),
        static_cast<float*>(workspace), next_random()};
  if (enqueue(s, std::string(call) + " (" + A.name + ")", [r] { execute(r); }) != cudaSuccess)
    return cudnn_fail(CUDNN_STATUS_EXECUTION_FAILED, std::string(call) + ": " + cudaGetErrorString(cudaGetLastError()));
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

}  // namespace dgemu

using namespace dgemu;

extern "C" {

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                      cudnnFilterDescriptor_t wDesc,
                                                      cudnnConvolutionDescriptor_t convDesc,
                                                      cudnnTensorDescriptor_t yDesc, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t* sizeInBytes) {
  return workspace_size(Primitive::forward, handle, xDesc, wDesc, convDesc, yDesc, algo, sizeInBytes,
                        "cudnnGetConvolutionForwardWorkspaceSize");
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle, cudnnFilterDescriptor_t wDesc,
                                                           cudnnTensorDescriptor_t dyDesc,
                                                           cudnnConvolutionDescriptor_t convDesc,
                                                           cudnnTensorDescriptor_t dxDesc,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t* sizeInBytes) {
  return workspace_size(Primitive::backward_data, handle, dxDesc, wDesc, convDesc, dyDesc, algo, sizeInBytes,
                        "cudnnGetConvolutionBackwardDataWorkspaceSize");
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                             cudnnTensorDescriptor_t dyDesc,
                                                             cudnnConvolutionDescriptor_t convDesc,
                                                             cudnnFilterDescriptor_t gradDesc,
                                                             cudnnConvolutionBwdFilterAlgo_t algo,
                                                             size_t* sizeInBytes) {
  return workspace_size(Primitive::backward_filter, handle, xDesc, gradDesc, convDesc, dyDesc, algo, sizeInBytes,
                        "cudnnGetConvolutionBackwardFilterWorkspaceSize");
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha, cudnnTensorDescriptor_t xDesc,
                                      const void* x, cudnnFilterDescriptor_t wDesc, const void* w,
                                      cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionFwdAlgo_t algo,
                                      void* workSpace, size_t workSpaceSizeInBytes, const void* beta,
                                      cudnnTensorDescriptor_t yDesc, void* y) {
  return convolve(Primitive::forward, handle, alpha, xDesc, wDesc, convDesc, yDesc, algo, x, w, workSpace,
                  workSpaceSizeInBytes, beta, y);
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha, cudnnFilterDescriptor_t wDesc,
                                           const void* w, cudnnTensorDescriptor_t dyDesc, const void* dy,
                                           cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionBwdDataAlgo_t algo,
                                           void* workSpace, size_t workSpaceSizeInBytes, const void* beta,
                                           cudnnTensorDescriptor_t dxDesc, void* dx) {
  return convolve(Primitive::backward_data, handle, alpha, dxDesc, wDesc, convDesc, dyDesc, algo, dy, w, workSpace,
                  workSpaceSizeInBytes, beta, dx);
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha, cudnnTensorDescriptor_t xDesc,
                                             const void* x, cudnnTensorDescriptor_t dyDesc, const void* dy,
                                             cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                             size_t workSpaceSizeInBytes, const void* beta,
                                             cudnnFilterDescriptor_t dwDesc, void* dw) {
  return convolve(Primitive::backward_filter, handle, alpha, xDesc, dwDesc, convDesc, dyDesc, algo, x, dy, workSpace,
                  workSpaceSizeInBytes, beta, dw);
}

}  // extern "C"
