// Graphs of the emulated runtime: a graph recorded by a capture (capture.cpp), instantiated
// and launched on a stream.
#include <algorithm>
#include <string>

#include "streams.h"

namespace dgemu {

namespace {

void run_graph(const GraphData& g) {
  const size_t n = g.nodes.size();
  std::vector<char> done(n, 0);
  for (size_t finished = 0; finished < n; finished++) {
    std::vector<size_t> candidates;
    for (size_t i = 0; i < n; i++)
      if (!done[i] && std::all_of(g.nodes[i].deps.begin(), g.nodes[i].deps.end(),
                                  [&](int d) { return done[size_t(d)] != 0; }))
        candidates.push_back(i);
    const size_t i = candidates[choose(candidates.size())];
    streams().running = "graph node " + std::to_string(i) + ": " + g.nodes[i].op.what;
    if (g.nodes[i].op.run) g.nodes[i].op.run();
    done[i] = 1;
  }
}

}  // namespace

}  // namespace dgemu

using namespace dgemu;

extern "C" {

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  Lock lock(device_mutex());
  if (!exec || !graph) return fail(cudaErrorInvalidValue, "cudaGraphInstantiate: a null argument");
  *exec = new dgemu_graph_exec{graph->data};
  return cudaSuccess;
}

// The graph's nodes run as one operation of `stream`, in an order their dependencies allow.
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!exec) return fail(cudaErrorInvalidValue, "cudaGraphLaunch: exec is null");
  Stream* s = stream_of(stream, "cudaGraphLaunch");
  if (!s) return cudaErrorInvalidResourceHandle;
  std::shared_ptr<GraphData> g = exec->data;
  return enqueue(s, "cudaGraphLaunch of " + std::to_string(g->nodes.size()) + " nodes", [g] { run_graph(*g); });
}

// A queued launch keeps its own reference to the nodes.
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  Lock lock(device_mutex());
  delete exec;
  return cudaSuccess;
}

// The count only (nodes == NULL), which is what dg asks for; the emulator has no node objects.
// Its nodes are the captured operations a GPU would have as nodes: kernels, copies, memsets,
// library calls (one node each here), NCCL collectives; not the emulator's own marks of arena
// ranges (dgemu_mark_async, memory.cpp), which a GPU build does not make.
cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* numNodes) {
  Lock lock(device_mutex());
  if (!graph || !numNodes) return fail(cudaErrorInvalidValue, "cudaGraphGetNodes: a null graph or numNodes");
  if (nodes) return fail(cudaErrorNotSupported, "cudaGraphGetNodes: the emulator gives only the count (nodes == NULL)");
  *numNodes = size_t(std::count_if(graph->data->nodes.begin(), graph->data->nodes.end(),
                                   [](const Node& n) { return n.op.what.rfind("arena range", 0) != 0; }));
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  Lock lock(device_mutex());
  delete graph;
  return cudaSuccess;
}

}  // extern "C"
