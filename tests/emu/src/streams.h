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

struct Node {
  Op op;  // waits and done unused: a graph orders its nodes by deps
  std::vector<int> deps;
};
struct GraphData {
  std::vector<Node> nodes;
};
struct Capture {
  Stream* origin = nullptr;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id thread;
  bool invalidated = false;
  std::string why;  // the call that invalidated it
  std::shared_ptr<GraphData> graph = std::make_shared<GraphData>();
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
