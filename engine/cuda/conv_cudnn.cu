// conv2d and conv_transpose2d through cuDNN: every cuDNN convolution call of dg is in this
// file (the legacy API, deprecated in cuDNN 9 but present; moving to the graph API is
// local to here).
//
// Three primitives of the underlying convolution "in (N, C, H, W) * w (K, C, R, S) ->
// out (N, K, P, Q)": forward, backward-data (out-gradient -> in-gradient) and
// backward-filter. conv2d maps onto them directly. conv_transpose2d (weight (Cin, Cout,
// R, S)) is the adjoint: its "in" is the y-shaped tensor (N, Cout, Ho, Wo) and its "out"
// the x-shaped one (N, Cin, H, W), with w read as a conv filter (K = Cin, C = Cout):
//   convT forward        = backward-data(out-grad = x)   -> y
//   convT backward-data  = forward(in = dy)              -> dx
//   convT backward-filter = backward-filter(in = dy, out-grad = x) -> dw
//
// Algorithms are chosen once per (primitive, shapes, geometry, math mode) by measurement
// (cudnnFind*AlgorithmEx) and cached in the context with the math type they were measured
// with. The search's own workspace is a temporary cudaMalloc, freed right after, so the
// arena (and the reported peak) holds only the workspaces the chosen algorithms use.
// Math: TF32 tensor cores allowed (CUDNN_TENSOR_OP_MATH, PyTorch's default for convs)
// unless the context asks for strict FP32 (CUDNN_FMA_MATH).
#include <sstream>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_ops.h"

namespace dg::cuda {

namespace {

constexpr size_t kMaxWorkspaceBytes = size_t(256) << 20;

// The descriptors of one underlying convolution, destroyed with the object.
struct ConvDescs {
  cudnnTensorDescriptor_t in = nullptr, out = nullptr;
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  ConvDescs(const Tensor& in_t, const Tensor& w, const Tensor& out_t, ConvGeom g, bool strict) {
    DG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&in));
    DG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&out));
    DG_CUDNN_CHECK(cudnnCreateFilterDescriptor(&filter));
    DG_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    DG_CUDNN_CHECK(cudnnSetTensor4dDescriptor(in, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, in_t.n(), in_t.c(), in_t.h(), in_t.w()));
    DG_CUDNN_CHECK(cudnnSetTensor4dDescriptor(out, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, out_t.n(), out_t.c(), out_t.h(),
                                              out_t.w()));
    DG_CUDNN_CHECK(cudnnSetFilter4dDescriptor(filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, w.n(), w.c(), w.h(), w.w()));
    DG_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, g.padding, g.padding, g.stride, g.stride, 1, 1,
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    DG_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, strict ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
  }
  ~ConvDescs() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(filter);
    cudnnDestroyTensorDescriptor(out);
    cudnnDestroyTensorDescriptor(in);
  }
  ConvDescs(const ConvDescs&) = delete;
  ConvDescs& operator=(const ConvDescs&) = delete;
};

// Checks that in * w -> out is a valid convolution with geometry g.
void check_conv(const Tensor& in, const Tensor& w, const Tensor& out, ConvGeom g, const char* op) {
  DG_CHECK(in.shape.rank == 4 && w.shape.rank == 4 && out.shape.rank == 4, op, ": tensors must be 4-d, got ",
           in.shape.str(), ", ", w.shape.str(), ", ", out.shape.str());
  DG_CHECK(in.device == Device::cuda && w.device == Device::cuda && out.device == Device::cuda, op,
           ": all tensors must be on the GPU");
  DG_CHECK(g.stride >= 1 && g.padding >= 0, op, ": bad stride ", g.stride, " or padding ", g.padding);
  DG_CHECK(w.c() == in.c() && out.c() == w.n() && out.n() == in.n(), op, ": channels do not chain: ", in.shape.str(),
           " * ", w.shape.str(), " -> ", out.shape.str());
  DG_CHECK(conv_out_size(in.h(), w.h(), g) == out.h() && conv_out_size(in.w(), w.w(), g) == out.w(), op, ": a ", w.h(),
           "x", w.w(), " kernel with stride ", g.stride, " padding ", g.padding, " maps ", in.h(), "x", in.w(), " to ",
           conv_out_size(in.h(), w.h(), g), "x", conv_out_size(in.w(), w.w(), g), ", not ", out.h(), "x", out.w());
}

std::string algo_key(const char* primitive, const Tensor& in, const Tensor& w, const Tensor& out, ConvGeom g,
                     bool strict) {
  std::ostringstream s;
  s << primitive << in.shape.str() << w.shape.str() << out.shape.str() << " s" << g.stride << " p" << g.padding
    << (strict ? " fma" : " tf32");
  return s.str();
}

// The fastest successful result of a Find call (results come sorted by time).
template <typename Perf>
ConvAlgo pick(const Perf* results, int count, const std::string& key) {
  for (int i = 0; i < count; i++)
    if (results[i].status == CUDNN_STATUS_SUCCESS) return {int(results[i].algo), results[i].memory, results[i].mathType};
  DG_FAIL("cuDNN found no usable algorithm for ", key);
}

// A workspace from the arena (released by the caller's ScratchScope).
void* workspace(Context& ctx, size_t bytes) { return bytes ? ctx.arena().allocate(bytes) : nullptr; }

// The algorithm search's workspace: as much as kMaxWorkspaceBytes, or what is free.
struct SearchWorkspace {
  void* p = nullptr;
  size_t bytes = kMaxWorkspaceBytes;
  SearchWorkspace() {
    size_t free_bytes = 0, total = 0;
    DG_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    if (bytes > free_bytes / 2) bytes = free_bytes / 2;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
      cudaGetLastError();
      p = nullptr;
      bytes = 0;  // search among the algorithms that need no workspace
    }
  }
  ~SearchWorkspace() { cudaFree(p); }
};

// Runs the cached algorithm with the math type it was measured with.
void use_math(const ConvDescs& d, const ConvAlgo& a) { DG_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, a.math)); }

void forward(Context& ctx, const Tensor& in, const Tensor& w, Tensor out, ConvGeom g, const char* op) {
  check_conv(in, w, out, g, op);
  CudaState& cs = ctx.cuda();
  ConvDescs d(in, w, out, g, cs.strict_fp32);
  ScratchScope scratch(ctx);
  const std::string key = algo_key("fwd", in, w, out, g, cs.strict_fp32);
  auto it = cs.conv_algos.find(key);
  if (it == cs.conv_algos.end()) {
    cudnnConvolutionFwdAlgoPerf_t results[8];
    int count = 0;
    SearchWorkspace ws;
    DG_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(cs.cudnn, d.in, in.data, d.filter, w.data, d.conv, d.out,
                                                          out.data, 8, &count, results, ws.p, ws.bytes));
    it = cs.conv_algos.emplace(key, pick(results, count, key)).first;
  }
  use_math(d, it->second);
  const float one = 1.0f, zero = 0.0f;
  DG_CUDNN_CHECK(cudnnConvolutionForward(cs.cudnn, &one, d.in, in.data, d.filter, w.data, d.conv,
                                         cudnnConvolutionFwdAlgo_t(it->second.algo),
                                         workspace(ctx, it->second.workspace_bytes), it->second.workspace_bytes, &zero,
                                         d.out, out.data));
}

// din = the in-gradient of the convolution for out-gradient dout (overwritten).
void backward_data(Context& ctx, const Tensor& dout, const Tensor& w, Tensor din, ConvGeom g, const char* op) {
  check_conv(din, w, dout, g, op);
  CudaState& cs = ctx.cuda();
  ConvDescs d(din, w, dout, g, cs.strict_fp32);
  ScratchScope scratch(ctx);
  const std::string key = algo_key("bwd-data", din, w, dout, g, cs.strict_fp32);
  auto it = cs.conv_algos.find(key);
  if (it == cs.conv_algos.end()) {
    cudnnConvolutionBwdDataAlgoPerf_t results[8];
    int count = 0;
    SearchWorkspace ws;
    DG_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(cs.cudnn, d.filter, w.data, d.out, dout.data, d.conv,
                                                               d.in, din.data, 8, &count, results, ws.p, ws.bytes));
    it = cs.conv_algos.emplace(key, pick(results, count, key)).first;
  }
  use_math(d, it->second);
  const float one = 1.0f, zero = 0.0f;
  DG_CUDNN_CHECK(cudnnConvolutionBackwardData(cs.cudnn, &one, d.filter, w.data, d.out, dout.data, d.conv,
                                              cudnnConvolutionBwdDataAlgo_t(it->second.algo),
                                              workspace(ctx, it->second.workspace_bytes), it->second.workspace_bytes,
                                              &zero, d.in, din.data));
}

// dw += the filter gradient for input `in` and out-gradient dout (parameter gradients accumulate).
void backward_filter(Context& ctx, const Tensor& in, const Tensor& dout, Tensor dw, ConvGeom g, const char* op) {
  if (dw.data == nullptr) return;
  check_conv(in, dw, dout, g, op);
  CudaState& cs = ctx.cuda();
  ConvDescs d(in, dw, dout, g, cs.strict_fp32);
  ScratchScope scratch(ctx);
  const std::string key = algo_key("bwd-filter", in, dw, dout, g, cs.strict_fp32);
  auto it = cs.conv_algos.find(key);
  if (it == cs.conv_algos.end()) {
    // Find writes its trial results into the filter buffer: give it a scratch one, so the
    // gradient accumulated so far survives.
    Tensor trial = ctx.alloc(dw.shape);
    cudnnConvolutionBwdFilterAlgoPerf_t results[8];
    int count = 0;
    SearchWorkspace ws;
    DG_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(cs.cudnn, d.in, in.data, d.out, dout.data, d.conv,
                                                                 d.filter, trial.data, 8, &count, results, ws.p,
                                                                 ws.bytes));
    it = cs.conv_algos.emplace(key, pick(results, count, key)).first;
  }
  use_math(d, it->second);
  const float one = 1.0f;
  DG_CUDNN_CHECK(cudnnConvolutionBackwardFilter(cs.cudnn, &one, d.in, in.data, d.out, dout.data, d.conv,
                                                cudnnConvolutionBwdFilterAlgo_t(it->second.algo),
                                                workspace(ctx, it->second.workspace_bytes), it->second.workspace_bytes,
                                                &one, d.filter, dw.data));
}

void check_transpose_size(const Tensor& x, const Tensor& w, const Tensor& y, ConvGeom g, const char* op) {
  DG_CHECK(y.h() == conv_transpose_out_size(x.h(), w.h(), g) && y.w() == conv_transpose_out_size(x.w(), w.w(), g), op,
           ": output ", y.shape.str(), " does not match input ", x.shape.str(), " with kernel ", w.h(), "x", w.w(),
           " stride ", g.stride, " padding ", g.padding);
}

}  // namespace

void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y) {
  forward(ctx, x, w, y, g, "conv2d_forward");
}

void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  backward_data(ctx, dy, w, dx, g, "conv2d_backward_data");
}

void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  backward_filter(ctx, x, dy, dw, g, "conv2d_backward_filter");
}

void conv_transpose2d_forward(Context& ctx, const Tensor& x, const Tensor& w, ConvGeom g, Tensor y) {
  check_transpose_size(x, w, y, g, "conv_transpose2d_forward");
  backward_data(ctx, x, w, y, g, "conv_transpose2d_forward");
}

void conv_transpose2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  check_transpose_size(dx, w, dy, g, "conv_transpose2d_backward_data");
  forward(ctx, dy, w, dx, g, "conv_transpose2d_backward_data");
}

void conv_transpose2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  if (dw.data == nullptr) return;
  check_transpose_size(x, dw, dy, g, "conv_transpose2d_backward_filter");
  backward_filter(ctx, dy, x, dw, g, "conv_transpose2d_backward_filter");
}

}  // namespace dg::cuda
