// Streams, events, stream capture and graphs of the emulated runtime: their objects and the
// scheduler's state, shared by streams.cpp (the queues and the scheduler), events.cpp,
// capture.cpp and graphs.cpp.
#pragma once
#include <unistd.h>

#include <chrono>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emu.h"

namespace dgemu {

using Clock = std::chrono::steady_clock;

struct GraphData;
// A conditional node's value (cudaGraphConditionalHandle points at one), set on the device by
// cudaGraphSetConditional and read when the node runs.
struct Conditional {
  unsigned value = 0, default_value = 0;
  bool assign_default = false;  // the default at the start of every launch of the graph
  bool used = false;            // a node reads it
};
struct Node {
  Op op;  // waits and done unused: a graph orders its nodes by deps
  std::vector<int> deps;
  // A conditional node (IF): op.run is empty; bodies[0] runs when the value is non-zero,
  // bodies[1] (if any) when it is zero.
  Conditional* cond = nullptr;
  std::vector<std::shared_ptr<GraphData>> bodies;
};
struct GraphData {
  std::vector<Node> nodes;
  std::vector<std::unique_ptr<Conditional>> conditionals;  // the handles created on this graph
  std::vector<std::unique_ptr<dgemu_graph_node>> handles;  // node handles given out, by index
  std::vector<std::unique_ptr<dgemu_graph>> body_handles;  // of its conditional nodes' bodies
  std::vector<std::vector<cudaGraph_t>> body_arrays;       // their phGraph_out arrays
  bool body = false;  // a conditional node's body: no event nodes
  GraphData() = default;
  GraphData(const GraphData&) = delete;
  GraphData& operator=(const GraphData&) = delete;
  ~GraphData();
};
// The handle of node `index` of `g` (made on first use; valid as long as the graph).
cudaGraphNode_t node_handle(GraphData& g, int index);
struct Capture {
  Stream* origin = nullptr;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id thread;
  bool invalidated = false;
  std::string why;  // the call that invalidated it
  std::shared_ptr<GraphData> graph = std::make_shared<GraphData>();
  dgemu_graph* handle = nullptr;  // the graph cudaStreamGetCaptureInfo names and the end returns
  bool to_graph = false;          // begun by cudaStreamBeginCaptureToGraph: the caller owns `handle`
  unsigned long long id = 0;
  std::vector<Stream*> streams;  // the origin and every stream that joined
};

struct Stream {
  int id = 0;
  unsigned flags = 0;
  int priority = 0;
  bool legacy = false;
  bool destroyed = false;
  std::deque<Op> queue;
  TokenPtr last;  // the latest queued operation's
  Capture* capture = nullptr;
  std::vector<int> tail;  // while capturing: the nodes the next captured operation depends on
  std::vector<cudaGraphNode_t> tail_handles;  // tail as handles, for cudaStreamGetCaptureInfo
  // Calls that blocked the host on this stream's work: a stream or device synchronize, an
  // event synchronize on an event it records, a copy into pageable memory (dgemu_host_waits).
  size_t host_waits = 0;
  // Its operations that ran because the host waited (directly, or for a stream that waits on
  // this one through an event): the work a GPU would have made the host wait for.
  size_t forced_ops = 0;
};

}  // namespace dgemu

struct dgemu_event {
  dgemu::TokenPtr token;  // of the latest record (null before the first)
  unsigned flags = 0;
  dgemu::Clock::time_point time{};
  dgemu::Capture* capture = nullptr;  // recorded in this capture (then `nodes`, not `token`)
  std::vector<int> nodes;
};
struct dgemu_graph {
  std::shared_ptr<dgemu::GraphData> data;
  bool owned_by_node = false;  // a conditional node's body: cudaGraphDestroy must not take it
};
struct dgemu_graph_node {
  dgemu::GraphData* graph;
  int index;
};
struct dgemu_graph_exec {
  std::shared_ptr<dgemu::GraphData> data;
};

namespace dgemu {

struct Streams {
  Stream legacy;
  std::vector<Stream*> all;  // scheduling order: the legacy stream, then by creation
  std::set<Stream*> live;
  std::set<dgemu_event*> events;
  std::vector<std::unique_ptr<Capture>> captures;
  unsigned long long next_capture_id = 1;
  std::set<Conditional*> conditionals;  // live handles (of graphs not destroyed)
  size_t graph_nodes_run = 0;           // by the latest graph launch (dgemu_graph_nodes_run)
  int conditional_nodes = 1;            // dgemu_set_conditional_nodes
  int next_id = 1;
  std::string running;  // the operation now running, for diagnostics
  Clock::time_point last_activity = Clock::now();
  pid_t background = 0;  // the process whose background thread runs (a fork has none)
  Streams() {
    legacy.legacy = true;
    all.push_back(&legacy);
  }
};
Streams& streams();

// Adds `s` to the streams of capture `c` (capture.cpp).
void join_capture(Stream* s, Capture* c);

}  // namespace dgemu
