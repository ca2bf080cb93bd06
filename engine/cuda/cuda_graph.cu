// CudaGraph (engine/cuda/cuda_graph.h): capture, instantiate, launch; and the conditional
// nodes of Context::when_any_nonzero.
#include "engine/cuda/cuda_graph.h"

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/launch.cuh"

namespace dg {

namespace {

// One block: the conditional node's value = whether any of x[0..n) is non-zero.
__global__ void set_if_any_nonzero_kernel(cudaGraphConditionalHandle handle, const float* x, int64_t n) {
  int mine = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) mine |= x[i] != 0.0f;
  const int any = __syncthreads_or(mine);
  if (threadIdx.x == 0) cudaGraphSetConditional(handle, any ? 1u : 0u);
}

}  // namespace

void cuda_when_any_nonzero(CudaState& cuda, const float* x, int64_t n, const std::function<void()>& body) {
  cudaStream_t stream = cuda.stream;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  cudaGraph_t graph = nullptr;
  DG_CUDA_CHECK(cudaStreamGetCaptureInfo(stream, &status, nullptr, &graph));
  if (status != cudaStreamCaptureStatusActive || !cuda.conditional_nodes) return body();
  cudaGraphConditionalHandle handle = 0;
  const cudaError_t made = cudaGraphConditionalHandleCreate(&handle, graph, 0, cudaGraphCondAssignDefault);
  if (made == cudaErrorNotSupported || made == cudaErrorCallRequiresNewerDriver) {  // a runtime without them
    cudaGetLastError();
    cuda.conditional_nodes = false;
    return body();
  }
  try {  // (a failure from here to the resumed capture is the conditional node's: StepGraph)
    DG_CUDA_CHECK(made);
    DG_LAUNCH(set_if_any_nonzero_kernel, 1, 256, 0, stream, handle, x, n);
    DG_CUDA_CHECK_LAUNCH();
    const cudaGraphNode_t* deps = nullptr;
    size_t num_deps = 0;
    DG_CUDA_CHECK(cudaStreamGetCaptureInfo(stream, &status, nullptr, &graph, &deps, nullptr, &num_deps));
    cudaGraphNodeParams params{};
    params.type = cudaGraphNodeTypeConditional;
    params.conditional.handle = handle;
    params.conditional.type = cudaGraphCondTypeIf;
    params.conditional.size = 1;
    cudaGraphNode_t node = nullptr;
    DG_CUDA_CHECK(cudaGraphAddNode(&node, graph, deps, nullptr, num_deps, &params));
    // The step's capture pauses while the body is captured into the node's graph, then goes on
    // from the node. (CudaGraph made the step's graph and owns it throughout.)
    cudaGraph_t step = nullptr, same = nullptr;
    DG_CUDA_CHECK(cudaStreamEndCapture(stream, &step));
    DG_CUDA_CHECK(cudaStreamBeginCaptureToGraph(stream, params.conditional.phGraph_out[0], nullptr, nullptr, 0, kCaptureMode));
    try {
      body();
    } catch (...) {
      cudaStreamEndCapture(stream, &same);  // the node's body: the node owns it
      throw;
    }
    DG_CUDA_CHECK(cudaStreamEndCapture(stream, &same));
    DG_CUDA_CHECK(cudaStreamBeginCaptureToGraph(stream, step, &node, nullptr, 1, kCaptureMode));
  } catch (...) {
    cuda.conditional_failed = true;
    throw;
  }
}

// The step is captured into a graph made here, so that its owner never changes when the
// capture pauses around a conditional node (cuda_when_any_nonzero).
CudaGraph::CudaGraph(cudaStream_t stream, const std::function<void()>& work) : stream_(stream) {
  cudaGraph_t graph = nullptr;
  DG_CUDA_CHECK(cudaGraphCreate(&graph, 0));
  try {
    DG_CUDA_CHECK(cudaStreamBeginCaptureToGraph(stream, graph, nullptr, nullptr, 0, kCaptureMode));
    try {
      work();
    } catch (...) {
      cudaGraph_t same = nullptr;
      cudaStreamEndCapture(stream, &same);  // (its own error, if any, is not the one to report)
      cudaGetLastError();
      throw;
    }
    cudaGraph_t same = nullptr;
    DG_CUDA_CHECK(cudaStreamEndCapture(stream, &same));
    DG_CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &nodes_));
    DG_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph, 0));
  } catch (...) {
    cudaGraphDestroy(graph);
    throw;
  }
  cudaGraphDestroy(graph);  // the executable graph keeps what it needs
}

CudaGraph::~CudaGraph() {
  if (exec_) cudaGraphExecDestroy(exec_);
}

void CudaGraph::launch() { DG_CUDA_CHECK(cudaGraphLaunch(exec_, stream_)); }

}  // namespace dg
