// The CUDA half of StepGraph (engine/step_graph.h): a stream capture made into an executable
// graph, and its launch.
#pragma once
#include <cuda_runtime.h>

#include <functional>

namespace dg {

struct CudaGraph {
  // Captures what `work` queues on `stream` (cudaStreamCaptureModeThreadLocal: a call this
  // thread makes that a capture cannot hold, such as cudaMalloc or a synchronization, fails
  // and names itself) and instantiates it. If `work` throws, the capture is ended and dropped.
  CudaGraph(cudaStream_t stream, const std::function<void()>& work);
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  void launch();
  size_t nodes() const { return nodes_; }  // the captured graph's nodes (cudaGraphGetNodes)

 private:
  cudaStream_t stream_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  size_t nodes_ = 0;
};

}  // namespace dg
