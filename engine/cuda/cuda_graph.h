// The CUDA half of StepGraph (engine/step_graph.h): a stream capture made into an executable
// graph, and its launch.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>

namespace dg {

// Every capture of dg's (CudaGraph's, and the conditional bodies inside it) is thread-local: a
// call this thread makes that a capture cannot hold fails and names itself.
constexpr cudaStreamCaptureMode kCaptureMode = cudaStreamCaptureModeThreadLocal;

struct CudaState;  // engine/cuda/cuda_context.h

// Context::when_any_nonzero on CUDA: body() runs now when the context's stream is not being
// captured; during a capture it becomes the body of a conditional (IF) node, after a one-block
// kernel that sets the node's value to whether any of the n floats at x is non-zero. The
// capture is ended around the node (the body is captured into the node's graph on the same
// stream, since dg's ops queue on the context's stream) and resumed after it. Where the runtime
// says it has none (cudaErrorNotSupported), or cuda.conditional_nodes is off, body() is
// captured as it is; a failure inside the node sets cuda.conditional_failed.
void cuda_when_any_nonzero(CudaState& cuda, const float* x, int64_t n, const std::function<void()>& body);

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
