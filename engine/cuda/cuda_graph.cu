// CudaGraph (engine/cuda/cuda_graph.h): capture, instantiate, launch.
#include "engine/cuda/cuda_graph.h"

#include "engine/cuda/cuda_check.h"

namespace dg {

CudaGraph::CudaGraph(cudaStream_t stream, const std::function<void()>& work) : stream_(stream) {
  DG_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    work();
  } catch (...) {
    cudaGraph_t dropped = nullptr;
    cudaStreamEndCapture(stream, &dropped);  // (its own error, if any, is not the one to report)
    if (dropped) cudaGraphDestroy(dropped);
    cudaGetLastError();
    throw;
  }
  cudaGraph_t graph = nullptr;
  DG_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  cudaError_t made = cudaGraphGetNodes(graph, nullptr, &nodes_);
  if (made == cudaSuccess) made = cudaGraphInstantiate(&exec_, graph, 0);
  cudaGraphDestroy(graph);  // the executable graph keeps what it needs
  DG_CUDA_CHECK(made);
}

CudaGraph::~CudaGraph() {
  if (exec_) cudaGraphExecDestroy(exec_);
}

void CudaGraph::launch() { DG_CUDA_CHECK(cudaGraphLaunch(exec_, stream_)); }

}  // namespace dg
