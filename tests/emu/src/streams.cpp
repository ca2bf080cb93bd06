// Streams, events, stream capture and graphs of the emulated runtime.
//
// Work queued on a stream waits until something forces it: a synchronizing call, a copy to
// pageable host memory, an event query. It then runs with only CUDA's guarantees (CUDA
// Programming Guide, "Asynchronous Concurrent Execution"): each stream in order; a
// cudaStreamWaitEvent waits for the event's latest record at the time of the call; the legacy
// default stream waits for, and is waited for by, every blocking stream (streams created
// without cudaStreamNonBlocking). Among the streams whose next operation may run, DGEMU_ORDER
// picks (forward: the oldest stream, reverse: the newest, random: seeded), so a missing wait
// between two streams gives a wrong result in at least one order.
//
// Capture (cudaStreamBeginCapture ... cudaStreamEndCapture) records operations into a graph
// instead of queueing them; an event recorded in a capturing stream and waited for by another
// stream pulls that stream into the capture (fork), and the origin must wait for the other
// streams' last work before the capture ends (join). Calls that CUDA forbids during a capture
// in the global or thread-local mode (cudaMalloc, synchronous copies, synchronizations,
// copies with pageable memory, ...) fail with cudaErrorStreamCaptureUnsupported and
// invalidate the capture, whose end then reports cudaErrorStreamCaptureInvalidated.
#include <algorithm>
#include <chrono>
#include <deque>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "emu.h"

namespace dgemu {

namespace {
using Clock = std::chrono::steady_clock;
}

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

namespace {

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
Streams& streams() {
  static Streams* s = new Streams;  // never destroyed: exit handlers may still synchronize
  return *s;
}

bool ready(const Op& op) {
  return std::all_of(op.waits.begin(), op.waits.end(), [](const TokenPtr& t) { return t->done; });
}

std::string describe_queues() {
  std::ostringstream s;
  for (Stream* st : streams().all) {
    if (st->queue.empty()) continue;
    s << "\n    stream " << st->id << (st->legacy ? " (legacy)" : "") << ": " << st->queue.size()
      << " queued, next: " << st->queue.front().what << (ready(st->queue.front()) ? "" : " (waiting for an event)");
  }
  return s.str();
}

void end_capture(Capture* c) {
  for (Stream* s : c->streams) {
    s->capture = nullptr;
    s->tail.clear();
  }
  for (dgemu_event* e : streams().events)
    if (e->capture == c) {
      e->capture = nullptr;
      e->nodes.clear();
    }
  auto& v = streams().captures;
  v.erase(std::remove_if(v.begin(), v.end(), [c](const auto& p) { return p.get() == c; }), v.end());
}

void join_capture(Stream* s, Capture* c) {
  s->capture = c;
  if (std::find(c->streams.begin(), c->streams.end(), s) == c->streams.end()) c->streams.push_back(s);
}

// The streams that `needed` depend on through the events their queued work waits for, them
// included (all streams when `needed` is empty).
std::vector<Stream*> closure(std::vector<Stream*> needed) {
  if (needed.empty()) return streams().all;
  for (size_t i = 0; i < needed.size(); i++)
    for (const Op& op : needed[i]->queue)
      for (const TokenPtr& t : op.waits)
        if (!t->done && t->owner && std::find(needed.begin(), needed.end(), t->owner) == needed.end())
          needed.push_back(t->owner);
  return needed;
}

// Runs one operation of `among` that may run, if any.
bool run_one(const std::vector<Stream*>& among) {
  Streams& st = streams();
  std::vector<Stream*> candidates;
  for (Stream* s : st.all)  // in scheduling order
    if (!s->queue.empty() && ready(s->queue.front()) && std::find(among.begin(), among.end(), s) != among.end())
      candidates.push_back(s);
  if (candidates.empty()) return false;
  Stream* s = candidates[choose(candidates.size())];
  Op op = std::move(s->queue.front());
  s->queue.pop_front();
  st.running = op.what;
  if (op.run) op.run();
  st.running.clear();
  op.done->done = true;
  if (s->destroyed && s->queue.empty()) {  // a destroyed stream lives until its work is done
    st.all.erase(std::find(st.all.begin(), st.all.end(), s));
    delete s;
  }
  return true;
}

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

Stream* stream_of(cudaStream_t handle, const char* call) {
  Streams& st = streams();
  if (handle == nullptr || handle == cudaStreamLegacy || handle == cudaStreamPerThread) return &st.legacy;
  Stream* s = reinterpret_cast<Stream*>(handle);
  if (!st.live.count(s)) {
    fail(cudaErrorInvalidResourceHandle, std::string(call) + ": " + hex(handle) + " is not a live stream");
    return nullptr;
  }
  return s;
}

bool stream_capturing(const Stream* s) { return s && s->capture != nullptr; }

cudaError_t forbid_in_capture(Stream* s, const std::string& what) {
  s->capture->invalidated = true;
  s->capture->why = what;
  return fail(cudaErrorStreamCaptureUnsupported, what + " cannot be captured (stream " + std::to_string(s->id) +
                                                     "); the capture is invalidated");
}

cudaError_t check_capture_allows(const char* call) {
  for (const auto& c : streams().captures) {
    if (c->mode == cudaStreamCaptureModeRelaxed) continue;
    if (c->mode == cudaStreamCaptureModeThreadLocal && c->thread != std::this_thread::get_id()) continue;
    c->invalidated = true;
    c->why = call;
    return fail(cudaErrorStreamCaptureUnsupported,
                std::string(call) + " is not allowed while stream " + std::to_string(c->origin->id) +
                    " is being captured (" +
                    (c->mode == cudaStreamCaptureModeGlobal ? "cudaStreamCaptureModeGlobal" : "cudaStreamCaptureModeThreadLocal") +
                    "); the capture is invalidated");
  }
  return cudaSuccess;
}

cudaError_t enqueue(Stream* s, std::string what, std::function<void()> run) {
  Streams& st = streams();
  st.last_activity = Clock::now();
  if (Capture* c = s->capture) {
    if (c->invalidated)
      return fail(cudaErrorStreamCaptureInvalidated, what + ": the capture was invalidated by " + c->why);
    c->graph->nodes.push_back({Op{std::move(what), std::move(run), {}, nullptr}, s->tail});
    s->tail = {int(c->graph->nodes.size()) - 1};
    return cudaSuccess;
  }
  Op op{std::move(what), std::move(run), {}, std::make_shared<Token>()};
  op.done->owner = s;
  if (s->legacy) {
    for (Stream* other : st.all)
      if (!other->legacy && other->flags == cudaStreamDefault) {
        if (other->capture)
          return fail(cudaErrorStreamCaptureImplicit, op.what + " on the legacy stream while blocking stream " +
                                                          std::to_string(other->id) + " is being captured");
        if (other->last) op.waits.push_back(other->last);
      }
  } else if (s->flags == cudaStreamDefault && st.legacy.last) {
    op.waits.push_back(st.legacy.last);
  }
  s->last = op.done;
  s->queue.push_back(std::move(op));
  return cudaSuccess;
}

void run_until(const std::function<bool()>& done, const char* why, std::vector<Stream*> needed) {
  Lock lock(device_mutex());
  while (!done())
    if (!run_one(closure(needed)))
      fatal(std::string("deadlock: ") + why + " waits, but no queued work can run:" + describe_queues());
}

void synchronize_stream(Stream* s, const char* why) {
  run_until([s] { return s->queue.empty(); }, why, {s});
}

void synchronize_device(const char* why) {
  run_until([] {
    for (Stream* s : streams().all)
      if (!s->queue.empty()) return false;
    return true;
  }, why);
}

size_t live_streams() { return streams().live.size(); }
size_t live_events() { return streams().events.size(); }

std::string running_operation() { return streams().running; }

void start_background_progress() {
  Lock lock(device_mutex());
  if (streams().background == getpid()) return;
  streams().background = getpid();
  std::thread([] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::unique_lock<std::recursive_mutex> lock(device_mutex(), std::try_to_lock);
      if (!lock.owns_lock() || Clock::now() - streams().last_activity < std::chrono::milliseconds(20)) continue;
      while (run_one(streams().all)) {
      }
    }
  }).detach();
}

}  // namespace dgemu

using namespace dgemu;

extern "C" {

cudaError_t cudaStreamCreateWithPriority(cudaStream_t* stream, unsigned int flags, int priority) {
  Lock lock(device_mutex());
  if (!stream) return fail(cudaErrorInvalidValue, "cudaStreamCreate: stream is null");
  if (flags & ~unsigned(cudaStreamNonBlocking))
    return fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: unknown flags " + std::to_string(flags));
  Streams& st = streams();
  Stream* s = new Stream;
  s->id = st.next_id++;
  s->flags = flags;
  s->priority = priority;
  st.all.push_back(s);
  st.live.insert(s);
  *stream = reinterpret_cast<cudaStream_t>(s);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  return cudaStreamCreateWithPriority(stream, flags, 0);
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithPriority(stream, cudaStreamDefault, 0); }

// The queued work still runs (CUDA: "the resources ... are released once the device has
// completed all work in the stream").
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Lock lock(device_mutex());
  Streams& st = streams();
  Stream* s = stream_of(stream, "cudaStreamDestroy");
  if (!s || s->legacy) return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: not a created stream");
  if (s->capture) return forbid_in_capture(s, "cudaStreamDestroy of a stream in a capture");
  st.live.erase(s);
  s->destroyed = true;
  if (s->queue.empty()) {
    st.all.erase(std::find(st.all.begin(), st.all.end(), s));
    delete s;
  }
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaStreamSynchronize");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (s->capture) {
    s->capture->invalidated = true;
    s->capture->why = "cudaStreamSynchronize";
    return fail(cudaErrorStreamCaptureUnsupported, "cudaStreamSynchronize on stream " + std::to_string(s->id) +
                                                       ", which is being captured; the capture is invalidated");
  }
  if (cudaError_t e = check_capture_allows("cudaStreamSynchronize"); e != cudaSuccess) return e;
  synchronize_stream(s, "cudaStreamSynchronize");
  return cudaSuccess;
}

// The emulator answers a query by finishing the stream's work (a GPU may be that fast).
cudaError_t cudaStreamQuery(cudaStream_t stream) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaStreamQuery");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (s->capture) {
    s->capture->invalidated = true;
    s->capture->why = "cudaStreamQuery";
    return fail(cudaErrorStreamCaptureUnsupported, "cudaStreamQuery on a capturing stream");
  }
  synchronize_stream(s, "cudaStreamQuery");
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  Lock lock(device_mutex());
  if (!event) return fail(cudaErrorInvalidValue, "cudaEventCreate: event is null");
  auto* e = new dgemu_event;
  e->flags = flags;
  streams().events.insert(e);
  *event = e;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

namespace {
bool live_event(cudaEvent_t e) { return e && streams().events.count(e); }
}  // namespace

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  Lock lock(device_mutex());
  if (!live_event(event)) return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy: " + hex(event) + " is not a live event");
  streams().events.erase(event);
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!live_event(event)) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: " + hex(event) + " is not a live event");
  Stream* s = stream_of(stream, "cudaEventRecord");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (s->capture) {  // a capture-internal dependency, no operation
    event->capture = s->capture;
    event->nodes = s->tail;
    event->token.reset();
    return cudaSuccess;
  }
  event->capture = nullptr;
  if (cudaError_t e = enqueue(s, "cudaEventRecord", [event] {
        if (streams().events.count(event)) event->time = Clock::now();
      });
      e != cudaSuccess)
    return e;
  event->token = s->last;
  return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int) {
  Lock lock(device_mutex());
  if (!live_event(event)) return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: " + hex(event) + " is not a live event");
  Stream* s = stream_of(stream, "cudaStreamWaitEvent");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (Capture* c = event->capture) {  // fork into (or within) the capture
    if (s->capture && s->capture != c)
      return fail(cudaErrorStreamCaptureIsolation, "cudaStreamWaitEvent: the stream and the event belong to different captures");
    if (!s->capture) {
      join_capture(s, c);
      s->tail.clear();
    }
    for (int n : event->nodes)
      if (std::find(s->tail.begin(), s->tail.end(), n) == s->tail.end()) s->tail.push_back(n);
    return cudaSuccess;
  }
  if (s->capture) {
    s->capture->invalidated = true;
    s->capture->why = "cudaStreamWaitEvent on an event recorded outside the capture";
    return fail(cudaErrorStreamCaptureIsolation,
                "cudaStreamWaitEvent: capturing stream " + std::to_string(s->id) + " waits for an event recorded outside the capture");
  }
  if (!event->token) return cudaSuccess;  // never recorded: nothing to wait for
  if (cudaError_t e = enqueue(s, "cudaStreamWaitEvent", nullptr); e != cudaSuccess) return e;
  s->queue.back().waits.push_back(event->token);
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  Lock lock(device_mutex());
  if (!live_event(event)) return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: not a live event");
  if (event->capture) return fail(cudaErrorCapturedEvent, "cudaEventSynchronize on an event recorded in a capture");
  if (cudaError_t e = check_capture_allows("cudaEventSynchronize"); e != cudaSuccess) return e;
  if (!event->token) return cudaSuccess;
  TokenPtr t = event->token;
  run_until([t] { return t->done; }, "cudaEventSynchronize", {t->owner});
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  Lock lock(device_mutex());
  if (!live_event(event)) return fail(cudaErrorInvalidResourceHandle, "cudaEventQuery: not a live event");
  if (event->capture) return fail(cudaErrorCapturedEvent, "cudaEventQuery on an event recorded in a capture");
  if (!event->token) return cudaSuccess;
  TokenPtr t = event->token;
  run_until([t] { return t->done; }, "cudaEventQuery", {t->owner});
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  Lock lock(device_mutex());
  if (!ms) return fail(cudaErrorInvalidValue, "cudaEventElapsedTime: ms is null");
  if (!live_event(start) || !live_event(end)) return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: not live events");
  if ((start->flags | end->flags) & cudaEventDisableTiming)
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was created with cudaEventDisableTiming");
  if (!start->token || !end->token) return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was never recorded");
  if (!start->token->done || !end->token->done) return fail(cudaErrorNotReady, "cudaEventElapsedTime: an event has not completed");
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaStreamBeginCapture");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (s->legacy) return fail(cudaErrorStreamCaptureUnsupported, "cudaStreamBeginCapture on the legacy default stream");
  if (s->capture) return fail(cudaErrorIllegalState, "cudaStreamBeginCapture: stream " + std::to_string(s->id) + " is already capturing");
  auto c = std::make_unique<Capture>();
  c->origin = s;
  c->mode = mode;
  c->thread = std::this_thread::get_id();
  join_capture(s, c.get());
  s->tail.clear();
  streams().captures.push_back(std::move(c));
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaStreamEndCapture");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (graph) *graph = nullptr;
  Capture* c = s->capture;
  if (!c) return fail(cudaErrorIllegalState, "cudaStreamEndCapture: stream " + std::to_string(s->id) + " is not capturing");
  if (c->origin != s) {
    c->invalidated = true;
    c->why = "cudaStreamEndCapture on another stream than the one it began on";
    return fail(cudaErrorStreamCaptureUnmatched, "cudaStreamEndCapture on stream " + std::to_string(s->id) +
                                                     ", the capture began on stream " + std::to_string(c->origin->id));
  }
  if (c->mode != cudaStreamCaptureModeRelaxed && c->thread != std::this_thread::get_id()) {
    end_capture(c);
    return fail(cudaErrorStreamCaptureWrongThread, "cudaStreamEndCapture from another thread than the one that began it");
  }
  if (c->invalidated) {
    const std::string why = c->why;
    end_capture(c);
    return fail(cudaErrorStreamCaptureInvalidated, "cudaStreamEndCapture: the capture was invalidated by " + why);
  }
  // Join: every other stream's last captured work must come before the origin's tail.
  std::vector<char> before(c->graph->nodes.size(), 0);
  std::vector<int> todo = s->tail;
  while (!todo.empty()) {
    const int n = todo.back();
    todo.pop_back();
    if (before[size_t(n)]) continue;
    before[size_t(n)] = 1;
    for (int d : c->graph->nodes[size_t(n)].deps) todo.push_back(d);
  }
  for (Stream* other : c->streams)
    for (int n : other->tail)
      if (other != s && !before[size_t(n)]) {
        const int id = other->id;
        end_capture(c);
        return fail(cudaErrorStreamCaptureUnjoined, "cudaStreamEndCapture: stream " + std::to_string(id) +
                                                        " joined the capture and the origin never waited for its work");
      }
  auto* g = new dgemu_graph{c->graph};
  end_capture(c);
  if (graph) *graph = g;
  else delete g;
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaStreamIsCapturing");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (!status) return fail(cudaErrorInvalidValue, "cudaStreamIsCapturing: status is null");
  *status = !s->capture ? cudaStreamCaptureStatusNone
            : s->capture->invalidated ? cudaStreamCaptureStatusInvalidated
                                      : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

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

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  Lock lock(device_mutex());
  delete graph;
  return cudaSuccess;
}

}  // extern "C"
