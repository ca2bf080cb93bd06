// StepGraph (engine/step_graph.h): when to run the step as it is, capture it, or replay it.
#include "engine/step_graph.h"

#include "engine/error.h"

#ifdef DG_HAVE_CUDA
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_graph.h"
#endif

namespace dg {

#ifndef DG_HAVE_CUDA
struct CudaGraph {};
#endif

StepGraph::StepGraph(Context& ctx) : ctx_(ctx) {}
StepGraph::~StepGraph() = default;

void StepGraph::run(const void* key, const std::function<void()>& step) {
#ifdef DG_HAVE_CUDA
  if (ctx_.on_cuda() && failure_.empty()) {
    const Arena::Mark m = ctx_.arena().mark();
    const bool same = warm_ && key == key_ && m.block == mark_.block && m.offset == mark_.offset && eager_ >= 2;
    if (same && !graph_) {
      CudaState& cuda = ctx_.cuda();
      cuda.conditional_failed = false;
      try {
        graph_ = std::make_unique<CudaGraph>(cuda.stream, step);
      } catch (const Error& e) {  // nothing of the step ran: run it as it is
        if (cuda.conditional_failed) {  // it failed in a conditional node: capture again, without them
          cuda.conditional_nodes = false;
          conditional_failure_ = e.what();
        } else {
          failure_ = e.what();
        }
        step();
        eager_++;
        return;
      }
      captures_++;
      nodes_ = int64_t(graph_->nodes());
    }
    if (same) {
      graph_->launch();
      launches_++;
      return;
    }
    graph_.reset();  // memory moved: warm up here, capture at the next call
    warm_ = true;
    key_ = key;
    mark_ = m;
  }
#endif
  (void)key;
  step();
  eager_++;
}

}  // namespace dg
