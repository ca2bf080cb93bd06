// StepGraph: a training step captured once as a CUDA graph and replayed (dgtrain --cuda-graph),
// so that a step costs the host one launch instead of a few hundred.
//
// run(key, step): the first two calls run step() as it is (the warm-up: cuDNN's algorithm
// searches, with their own scratch, then the step exactly as it will be captured, so that the
// arena has grown to what the capture needs: a capture cannot cudaMalloc); the third captures
// what step() queues on the context's stream (and the streams it forks to) and launches the
// graph; later calls launch it again. A graph
// holds the addresses its step used, so it is replayed only while the step would use the same
// memory: the arena's position and the caller's key (the batch tensor's address) as they were
// at the capture. Otherwise step() runs as it is (one warm-up at the new memory), and the next
// call captures anew. The step
// must queue the same work every time and read what changes per step from device memory
// (kernels/step_index.h). On the CPU step() runs every time.
//
// A capture that fails (a call the step makes that a capture cannot hold) is not fatal: the
// step runs as it is, then and from then on, and failure() says why (dgtrain prints it). If
// it failed inside a conditional node (Context::when_any_nonzero: making it, or capturing its
// body), the next step is captured again without them (every D's backward then runs in the G
// step), and conditional_failure() says why.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/arena.h"
#include "engine/context.h"

namespace dg {

struct CudaGraph;  // engine/cuda/cuda_graph.h

class StepGraph {
 public:
  explicit StepGraph(Context& ctx);
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  void run(const void* key, const std::function<void()>& step);

  int64_t captures() const { return captures_; }  // graphs made
  int64_t launches() const { return launches_; }  // steps run as a graph
  int64_t eager() const { return eager_; }        // steps run as they are
  // Nodes of the latest graph (kernels, copies, memsets, library work; 0 before a capture): the
  // launches a step costs the device, where a replay costs the host one.
  int64_t nodes() const { return nodes_; }
  const std::string& failure() const { return failure_; }  // why capturing failed; "" if it did not
  const std::string& conditional_failure() const { return conditional_failure_; }

 private:
  Context& ctx_;
  std::unique_ptr<CudaGraph> graph_;
  bool warm_ = false;  // a step ran at key_ and mark_
  const void* key_ = nullptr;
  Arena::Mark mark_;
  int64_t captures_ = 0, launches_ = 0, eager_ = 0, nodes_ = 0;
  std::string failure_, conditional_failure_;
};

}  // namespace dg
