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
// Algorithms are chosen once per (primitive, shapes, geometry, math mode, determinism, buffer
// alignment) by measurement (cudnnFind*AlgorithmEx) and cached in the context with the math
// type they were measured with. Alignment joins the key because Find only offers algorithms
// that work on the buffers it was handed: one found on 256-byte aligned tensors may refuse a
// slice at a 4-byte offset (the generator step's per-D logit gradients). With --deterministic
// the choice must not depend on timing either (two processes, or a resumed run, could time two
// deterministic algorithms in a different order and then differ in every bit): among the
// algorithms Find ran, it takes the first in cuDNN's heuristic ranking (cudnnGet*Algorithm_v7,
// which measures nothing). The search's own workspace is a temporary cudaMalloc (at most 256 MiB,
// freed right after; algorithms needing more are not tried), so the arena, which never
// gives memory back, and its reported peak hold only the workspaces the chosen algorithms use.
// Math: TF32 tensor cores allowed (CUDNN_TENSOR_OP_MATH; TF32 convs are PyTorch's default)
// unless the context asks for strict FP32 (CUDNN_FMA_MATH; results measured with any other
// math type are then refused). CudaState::deterministic_convs keeps only algorithms cuDNN
// reports deterministic (some backward algorithms accumulate with atomics).

// cuDNN 9 marks this legacy API deprecated (the attribute is on only with
// CUDNN_WARN_DEPRECATED); this file is its one user and knows it, so it opts out here alone.
#undef CUDNN_WARN_DEPRECATED
#include <algorithm>
#include <sstream>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/conv/conv.h"
#include "kernels/launch.cuh"

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
    DG_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, g.pad_h(), g.pad_w(), g.stride, g.stride, 1, 1,
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

// Shapes were checked by conv.cpp; the tensors must be the GPU's.
void check_on_gpu(const Tensor& in, const Tensor& w, const Tensor& out, const char* op) {
  for (const Tensor* t : {&in, &w, &out}) kernels::check_on_device(*t, op);
}

// The largest power of two (up to 256) that divides the address: what an algorithm's vector
// loads can rely on.
int alignment(const void* p) {
  const uintptr_t u = reinterpret_cast<uintptr_t>(p);
  return u == 0 ? 256 : int(std::min<uintptr_t>(256, u & (~u + 1)));
}

std::string algo_key(const char* primitive, const Tensor& in, const Tensor& w, const Tensor& out, ConvGeom g,
                     const CudaState& cs) {
  std::ostringstream s;
  s << primitive << in.shape.str() << w.shape.str() << out.shape.str() << " s" << g.stride << " p" << g.pad_h() << "," << g.pad_w()
    << (cs.strict_fp32 ? " fma" : " tf32") << (cs.deterministic_convs ? " deterministic" : "") << " aligned "
    << alignment(in.data) << "," << alignment(w.data) << "," << alignment(out.data);
  return s.str();
}

// The algorithm to run from a Find call's results (sorted by time) that ran, in strict FP32
// measured with FMA math (never TF32), deterministic when asked: the fastest; with
// deterministic convolutions, the first of the heuristic ranking `ranked` (no timing) among
// them. Every result that ran is kept with cuDNN's timing of it, for dgbench's side-by-side view.
template <typename Perf>
ConvAlgo pick(const std::vector<Perf>& results, int count, const std::vector<Perf>& ranked, int ranked_count,
              const CudaState& cs, const std::string& key) {
  std::vector<ConvTrial> trials;
  for (int i = 0; i < count; i++) {
    const Perf& r = results[size_t(i)];
    if (r.status == CUDNN_STATUS_SUCCESS)
      trials.push_back({int(r.algo), r.time, r.memory, r.mathType, r.determinism == CUDNN_DETERMINISTIC});
  }
  auto usable = [&](const Perf& r) {
    return r.status == CUDNN_STATUS_SUCCESS && (!cs.strict_fp32 || r.mathType == CUDNN_FMA_MATH) &&
           (!cs.deterministic_convs || r.determinism == CUDNN_DETERMINISTIC);
  };
  if (cs.deterministic_convs) {  // an algorithm may be listed twice, with two math types
    for (int j = 0; j < ranked_count; j++)
      for (int i = 0; i < count; i++) {
        const Perf& r = results[size_t(i)];
        if (r.algo == ranked[size_t(j)].algo && r.mathType == ranked[size_t(j)].mathType && usable(r))
          return {int(r.algo), r.memory, r.mathType, trials};
      }
  } else {
    for (int i = 0; i < count; i++)
      if (usable(results[size_t(i)])) {
        const Perf& r = results[size_t(i)];
        return {int(r.algo), r.memory, r.mathType, trials};
      }
  }
  DG_FAIL("cuDNN found no usable algorithm for ", key, " among ", count, " results",
          cs.strict_fp32 ? " (strict FP32: FMA math only)" : "",
          cs.deterministic_convs ? " (deterministic only)" : "");
}

// A workspace from the arena (released by the caller's WorkspaceScope).
void* workspace(Context& ctx, size_t bytes) { return bytes ? ctx.arena().allocate(bytes) : nullptr; }

// The algorithm search's workspace: as much as kMaxWorkspaceBytes, or what is free. With
// deterministic convolutions exactly kMaxWorkspaceBytes, or an error: Find fails the algorithms
// that need more than it is given, and a limit that moved with free memory would move the
// choice (and the bits) between runs.
struct SearchWorkspace {
  void* p = nullptr;
  size_t bytes = kMaxWorkspaceBytes;
  explicit SearchWorkspace(bool fixed) {
    size_t free_bytes = 0, total = 0;
    DG_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    if (!fixed && bytes > free_bytes / 2) bytes = free_bytes / 2;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess && fixed) {
      cudaGetLastError();
      DG_FAIL("--deterministic: the cuDNN algorithm search needs a ", kMaxWorkspaceBytes,
              "-byte workspace and cudaMalloc refused it (", cudaGetErrorString(e), "); ", free_bytes,
              " bytes are free");
    }
    if (e != cudaSuccess) {
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
  check_on_gpu(in, w, out, op);
  CudaState& cs = ctx.cuda();
  ConvDescs d(in, w, out, g, cs.strict_fp32);
  WorkspaceScope scratch(ctx);
  const std::string key = algo_key("fwd", in, w, out, g, cs);
  auto it = cs.conv_algos.find(key);
  if (it == cs.conv_algos.end()) {  // Find writes trial results into `out`, which we overwrite anyway
    int max_count = 0, count = 0;
    DG_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(cs.cudnn, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> results(static_cast<size_t>(max_count));
    SearchWorkspace ws(cs.deterministic_convs);
    DG_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(cs.cudnn, d.in, in.data, d.filter, w.data, d.conv, d.out,
                                                          out.data, max_count, &count, results.data(), ws.p,
                                                          ws.bytes));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked(static_cast<size_t>(max_count));
    int ranked_count = 0;
    if (cs.deterministic_convs)
      DG_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(cs.cudnn, d.in, d.filter, d.conv, d.out, max_count,
                                                            &ranked_count, ranked.data()));
    it = cs.conv_algos.emplace(key, pick(results, count, ranked, ranked_count, cs, key)).first;
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
  check_on_gpu(din, w, dout, op);
  CudaState& cs = ctx.cuda();
  ConvDescs d(din, w, dout, g, cs.strict_fp32);
  WorkspaceScope scratch(ctx);
  const std::string key = algo_key("bwd-data", din, w, dout, g, cs);
  auto it = cs.conv_algos.find(key);
  if (it == cs.conv_algos.end()) {  // Find writes trial results into `din`, which we overwrite anyway
    int max_count = 0, count = 0;
    DG_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cs.cudnn, &max_count));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> results(static_cast<size_t>(max_count));
    SearchWorkspace ws(cs.deterministic_convs);
    DG_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(cs.cudnn, d.filter, w.data, d.out, dout.data, d.conv,
                                                               d.in, din.data, max_count, &count, results.data(),
                                                               ws.p, ws.bytes));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> ranked(static_cast<size_t>(max_count));
    int ranked_count = 0;
    if (cs.deterministic_convs)
      DG_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(cs.cudnn, d.filter, d.out, d.conv, d.in, max_count,
                                                                 &ranked_count, ranked.data()));
    it = cs.conv_algos.emplace(key, pick(results, count, ranked, ranked_count, cs, key)).first;
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
  check_on_gpu(in, dw, dout, op);
  CudaState& cs = ctx.cuda();
  ConvDescs d(in, dw, dout, g, cs.strict_fp32);
  WorkspaceScope scratch(ctx);
  const std::string key = algo_key("bwd-filter", in, dw, dout, g, cs);
  auto it = cs.conv_algos.find(key);
  if (it == cs.conv_algos.end()) {
    // Find writes its trial results into the filter buffer: give it a scratch one, so the
    // gradient accumulated so far survives, at dw's offset from a 256-byte boundary, so that
    // Find offers only algorithms that also work on dw itself.
    const int64_t offset = int64_t(reinterpret_cast<uintptr_t>(dw.data) % 256 / sizeof(float));
    Tensor trial = ctx.alloc({int(dw.numel() + 64)}).slice(offset, dw.shape);
    int max_count = 0, count = 0;
    DG_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cs.cudnn, &max_count));
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> results(static_cast<size_t>(max_count));
    SearchWorkspace ws(cs.deterministic_convs);
    DG_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(cs.cudnn, d.in, in.data, d.out, dout.data, d.conv,
                                                                 d.filter, trial.data, max_count, &count,
                                                                 results.data(), ws.p, ws.bytes));
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> ranked(static_cast<size_t>(max_count));
    int ranked_count = 0;
    if (cs.deterministic_convs)
      DG_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(cs.cudnn, d.in, d.out, d.conv, d.filter, max_count,
                                                                   &ranked_count, ranked.data()));
    it = cs.conv_algos.emplace(key, pick(results, count, ranked, ranked_count, cs, key)).first;
  }
  use_math(d, it->second);
  const float one = 1.0f;
  DG_CUDNN_CHECK(cudnnConvolutionBackwardFilter(cs.cudnn, &one, d.in, in.data, d.out, dout.data, d.conv,
                                                cudnnConvolutionBwdFilterAlgo_t(it->second.algo),
                                                workspace(ctx, it->second.workspace_bytes), it->second.workspace_bytes,
                                                &one, d.filter, dw.data));
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
  backward_data(ctx, x, w, y, g, "conv_transpose2d_forward");
}

void conv_transpose2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, ConvGeom g, Tensor dx) {
  forward(ctx, dy, w, dx, g, "conv_transpose2d_backward_data");
}

void conv_transpose2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, ConvGeom g, Tensor dw) {
  if (dw.data == nullptr) return;
  backward_filter(ctx, dy, x, dw, g, "conv_transpose2d_backward_filter");
}

std::vector<std::string> conv_algorithm_trials(Context& ctx) {
  std::vector<std::string> lines;
  for (const auto& [key, chosen] : ctx.cuda().conv_algos) {
    lines.push_back(key + ":");
    for (const ConvTrial& t : chosen.trials) {
      std::ostringstream s;
      s << "  algo " << t.algo << (t.math == CUDNN_FMA_MATH ? " fma " : " tensor-op ") << t.ms * 1e3 << " us, workspace "
        << t.workspace_bytes << " B" << (t.deterministic ? "" : ", non-deterministic")
        << (t.algo == chosen.algo && t.math == chosen.math ? "  <- chosen" : "");
      lines.push_back(s.str());
    }
  }
  return lines;
}

}  // namespace dg::cuda
