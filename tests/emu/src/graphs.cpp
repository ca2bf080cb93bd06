// Graphs of the emulated runtime: a graph recorded by a capture (capture.cpp), with the
// conditional nodes added to it (cudaGraphAddNode), instantiated and launched on a stream.
#include <algorithm>
#include <string>

#include "dgemu/introspect.h"
#include "streams.h"

namespace dgemu {

namespace {

bool is_arena_mark(const Node& n) { return n.op.what.rfind("arena range", 0) == 0; }

// Runs the nodes of `g` in an order their dependencies allow; a conditional node runs the body
// its value picks, as a nested graph.
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
    const Node& node = g.nodes[i];
    if (node.cond) {
      const size_t body = node.cond->value != 0 ? 0 : 1;
      if (body < node.bodies.size()) run_graph(*node.bodies[body]);
    } else {
      streams().running = "graph node " + std::to_string(i) + ": " + node.op.what;
      if (node.op.run) node.op.run();
      if (!is_arena_mark(node)) streams().graph_nodes_run++;
    }
    done[i] = 1;
  }
}

// The defaults of the conditionals that take one at every launch, bodies included.
void assign_defaults(const GraphData& g) {
  for (const auto& c : g.conditionals)
    if (c->assign_default) c->value = c->default_value;
  for (const Node& n : g.nodes)
    for (const auto& b : n.bodies) assign_defaults(*b);
}

bool all_conditionals_used(const GraphData& g) {
  for (const auto& c : g.conditionals)
    if (!c->used) return false;
  for (const Node& n : g.nodes)
    for (const auto& b : n.bodies)
      if (!all_conditionals_used(*b)) return false;
  return true;
}

bool owns_conditional(const GraphData& g, const Conditional* c) {
  return std::any_of(g.conditionals.begin(), g.conditionals.end(), [c](const auto& p) { return p.get() == c; });
}

}  // namespace

cudaGraphNode_t node_handle(GraphData& g, int index) {
  if (g.handles.size() <= size_t(index)) g.handles.resize(size_t(index) + 1);
  auto& h = g.handles[size_t(index)];
  if (!h) h = std::make_unique<dgemu_graph_node>(dgemu_graph_node{&g, index});
  return h.get();
}

GraphData::~GraphData() {
  for (const auto& c : conditionals) streams().conditionals.erase(c.get());
}

}  // namespace dgemu

using namespace dgemu;

extern "C" {

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  Lock lock(device_mutex());
  if (!exec || !graph) return fail(cudaErrorInvalidValue, "cudaGraphInstantiate: a null argument");
  if (!all_conditionals_used(*graph->data))
    return fail(cudaErrorInvalidValue, "cudaGraphInstantiate: a conditional handle of the graph belongs to no conditional node");
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
  return enqueue(s, "cudaGraphLaunch of " + std::to_string(g->nodes.size()) + " nodes", [g] {
    streams().graph_nodes_run = 0;
    assign_defaults(*g);
    run_graph(*g);
  });
}

// A queued launch keeps its own reference to the nodes.
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  Lock lock(device_mutex());
  delete exec;
  return cudaSuccess;
}

// The count only (nodes == NULL), which is what dg asks for. Its nodes are the captured
// operations a GPU would have as nodes: kernels, copies, memsets, library calls (one node each
// here), NCCL collectives, and conditional nodes (one each; their bodies' nodes are not the
// graph's); not the emulator's own marks of arena ranges (dgemu_mark_async, memory.cpp), which
// a GPU build does not make.
cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* numNodes) {
  Lock lock(device_mutex());
  if (!graph || !numNodes) return fail(cudaErrorInvalidValue, "cudaGraphGetNodes: a null graph or numNodes");
  if (nodes) return fail(cudaErrorNotSupported, "cudaGraphGetNodes: the emulator gives only the count (nodes == NULL)");
  *numNodes = size_t(std::count_if(graph->data->nodes.begin(), graph->data->nodes.end(),
                                   [](const Node& n) { return !is_arena_mark(n); }));
  return cudaSuccess;
}

cudaError_t cudaGraphCreate(cudaGraph_t* pGraph, unsigned int flags) {
  Lock lock(device_mutex());
  if (!pGraph || flags != 0) return fail(cudaErrorInvalidValue, "cudaGraphCreate: pGraph null or flags not 0");
  *pGraph = new dgemu_graph{std::make_shared<GraphData>()};
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  Lock lock(device_mutex());
  if (graph && graph->owned_by_node)
    return fail(cudaErrorInvalidValue, "cudaGraphDestroy: the graph is a conditional node's body (the node owns it)");
  for (const auto& c : streams().captures)
    if (c->handle == graph)
      return fail(cudaErrorIllegalState, "cudaGraphDestroy: a capture is still recording into the graph");
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphConditionalHandleCreate(cudaGraphConditionalHandle* pHandle_out, cudaGraph_t graph,
                                             unsigned int defaultLaunchValue, unsigned int flags) {
  Lock lock(device_mutex());
  if (!pHandle_out || !graph) return fail(cudaErrorInvalidValue, "cudaGraphConditionalHandleCreate: a null argument");
  if (streams().conditional_nodes == 0)
    return fail(cudaErrorNotSupported, "cudaGraphConditionalHandleCreate: this driver has no conditional nodes "
                                       "(dgemu_set_conditional_nodes(0))");
  if (flags != 0 && flags != cudaGraphCondAssignDefault)
    return fail(cudaErrorInvalidValue, "cudaGraphConditionalHandleCreate: flags " + std::to_string(flags) +
                                           " (0 or cudaGraphCondAssignDefault)");
  auto c = std::make_unique<Conditional>();
  c->value = c->default_value = defaultLaunchValue;
  c->assign_default = flags == cudaGraphCondAssignDefault;
  streams().conditionals.insert(c.get());
  *pHandle_out = cudaGraphConditionalHandle(reinterpret_cast<uintptr_t>(c.get()));
  graph->data->conditionals.push_back(std::move(c));
  return cudaSuccess;
}

// Conditional nodes only (IF, with one body or a second for the else): the node depends on
// `pDependencies` (nodes of `graph`); its body graphs come back in phGraph_out.
cudaError_t cudaGraphAddNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph, const cudaGraphNode_t* pDependencies,
                             const cudaGraphEdgeData* dependencyData, size_t numDependencies,
                             cudaGraphNodeParams* nodeParams) {
  Lock lock(device_mutex());
  if (!pGraphNode || !graph || !nodeParams) return fail(cudaErrorInvalidValue, "cudaGraphAddNode: a null argument");
  if (dependencyData) return fail(cudaErrorNotSupported, "cudaGraphAddNode: the emulator takes no edge data");
  if (nodeParams->type != cudaGraphNodeTypeConditional)
    return fail(cudaErrorNotSupported, "cudaGraphAddNode: node type " + std::to_string(int(nodeParams->type)) +
                                           " (the emulator adds conditional nodes only)");
  if (streams().conditional_nodes == -1)
    return fail(cudaErrorUnknown, "cudaGraphAddNode: a conditional node failed (dgemu_set_conditional_nodes(-1))");
  cudaConditionalNodeParams& p = nodeParams->conditional;
  if (p.type != cudaGraphCondTypeIf)
    return fail(cudaErrorNotSupported, "cudaGraphAddNode: conditional type " + std::to_string(int(p.type)) + " (the emulator has IF only)");
  if (p.size != 1 && p.size != 2) return fail(cudaErrorInvalidValue, "cudaGraphAddNode: an IF node has 1 or 2 bodies, not " + std::to_string(p.size));
  auto* c = reinterpret_cast<Conditional*>(uintptr_t(p.handle));
  // The handle must be one made on this graph (or a graph it is the body of: not tracked here).
  if (!streams().conditionals.count(c) || !owns_conditional(*graph->data, c))
    return fail(cudaErrorInvalidValue, "cudaGraphAddNode: the conditional handle was not created on this graph");
  if (c->used) return fail(cudaErrorInvalidValue, "cudaGraphAddNode: the conditional handle already has a node");
  if (numDependencies > 0 && !pDependencies)
    return fail(cudaErrorInvalidValue, "cudaGraphAddNode: numDependencies > 0 and pDependencies null");
  Node node;
  node.op.what = "conditional node";
  node.cond = c;
  for (size_t i = 0; i < numDependencies; i++) {
    if (!pDependencies[i] || pDependencies[i]->graph != graph->data.get())
      return fail(cudaErrorInvalidValue, "cudaGraphAddNode: dependency " + std::to_string(i) + " is not a node of the graph");
    node.deps.push_back(pDependencies[i]->index);
  }
  GraphData& g = *graph->data;
  for (unsigned b = 0; b < p.size; b++) {
    auto body = std::make_shared<GraphData>();
    body->body = true;
    node.bodies.push_back(body);
    g.body_handles.push_back(std::make_unique<dgemu_graph>(dgemu_graph{body, true}));
  }
  // phGraph_out: an array the node owns, valid as long as the graph.
  g.body_arrays.push_back(std::vector<cudaGraph_t>());
  for (unsigned b = 0; b < p.size; b++) g.body_arrays.back().push_back(g.body_handles[g.body_handles.size() - p.size + b].get());
  p.phGraph_out = g.body_arrays.back().data();
  c->used = true;
  g.nodes.push_back(std::move(node));
  *pGraphNode = node_handle(g, int(g.nodes.size()) - 1);
  return cudaSuccess;
}

void dgemu_set_conditional_nodes(int mode) {
  Lock lock(device_mutex());
  streams().conditional_nodes = mode;
}

// Device code, from a kernel of the graph (the emulator runs it on the host).
void cudaGraphSetConditional(cudaGraphConditionalHandle handle, unsigned int value) {
  auto* c = reinterpret_cast<Conditional*>(uintptr_t(handle));
  if (!streams().conditionals.count(c)) fatal("cudaGraphSetConditional: " + std::to_string(handle) + " is not a live conditional handle");
  c->value = value;
}

}  // extern "C"
