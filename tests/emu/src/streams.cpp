// Streams and the scheduler of the emulated runtime (events: events.cpp; capture: capture.cpp;
// graphs: graphs.cpp).
//
// Work queued on a stream waits until something forces it: a synchronizing call, a copy to
// pageable host memory, an event query. It then runs with only CUDA's guarantees (CUDA
// Programming Guide, "Asynchronous Concurrent Execution"): each stream in order; a
// cudaStreamWaitEvent waits for the event's latest record at the time of the call; the legacy
// default stream waits for, and is waited for by, every blocking stream (streams created
// without cudaStreamNonBlocking). Among the streams whose next operation may run, DGEMU_ORDER
// picks (forward: the oldest stream, reverse: the newest, random: seeded), so a missing wait
// between two streams gives a wrong result in at least one order.
#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "dgemu/introspect.h"
#include "streams.h"

namespace dgemu {

Streams& streams() {
  static Streams* s = new Streams;  // never destroyed: exit handlers may still synchronize
  return *s;
}

namespace {

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

// The streams with queued work that `needed` depends on (all streams when `needed` is empty):
// each needed stream's queue up to the operation that sets `until` (all of it when `until` is
// null), and, through the events those operations wait for, each recording stream's queue up to
// its record, and so on. Work queued after what is awaited is never needed, as on a GPU.
std::vector<Stream*> closure(const std::vector<Stream*>& needed, const Token* until) {
  if (needed.empty()) return streams().all;
  std::vector<std::pair<Stream*, const Token*>> work;  // (stream, its last needed op's token)
  for (Stream* s : needed) work.push_back({s, until});
  std::vector<Stream*> out;
  for (size_t i = 0; i < work.size(); i++) {
    const auto [s, limit] = work[i];
    for (const Op& op : s->queue) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
      for (const TokenPtr& t : op.waits) {
        const std::pair<Stream*, const Token*> dep{t->owner, t.get()};
        if (!t->done && t->owner && std::find(work.begin(), work.end(), dep) == work.end()) work.push_back(dep);
      }
      if (limit && op.done.get() == limit) break;
    }
  }
  return out;
}

// Runs one operation of `among` that may run, if any.
// `forced`: a host wait runs it (counted in Stream::forced_ops).
bool run_one(const std::vector<Stream*>& among, bool forced = false) {
  Streams& st = streams();
  std::vector<Stream*> candidates;
  for (Stream* s : st.all)  // in scheduling order
    if (!s->queue.empty() && ready(s->queue.front()) && std::find(among.begin(), among.end(), s) != among.end())
      candidates.push_back(s);
  if (candidates.empty()) return false;
  Stream* s = candidates[choose(candidates.size())];
  Op op = std::move(s->queue.front());
  s->queue.pop_front();
  if (forced) s->forced_ops++;
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

cudaError_t enqueue(Stream* s, std::string what, std::function<void()> run) {
  Streams& st = streams();
  st.last_activity = Clock::now();
  if (Capture* c = s->capture) {
    if (c->invalidated)
      return fail(cudaErrorStreamCaptureInvalidated, what + ": the capture was invalidated by " + c->why);
    if (c->graph->body && st.conditional_nodes == -2)
      return forbid_in_capture(s, what + " in a conditional node's body (dgemu_set_conditional_nodes(-2))");
    Node node;
    node.op = Op{std::move(what), std::move(run), {}, nullptr};
    node.deps = s->tail;
    c->graph->nodes.push_back(std::move(node));
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

void run_until(const std::function<bool()>& done, const char* why, std::vector<Stream*> needed,
               const TokenPtr& until) {
  Lock lock(device_mutex());
  while (!done())
    if (!run_one(closure(needed, until.get()), true))
      fatal(std::string("deadlock: ") + why + " waits, but no queued work can run:" + describe_queues());
}

void note_host_wait(const std::vector<Stream*>& on) {
  for (Stream* s : on.empty() ? streams().all : on) s->host_waits++;
}

void synchronize_stream(Stream* s, const char* why) {
  note_host_wait({s});
  run_until([s] { return s->queue.empty(); }, why, {s});
}

void synchronize_device(const char* why) {
  note_host_wait({});
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

}  // extern "C"

extern "C" size_t dgemu_host_waits(cudaStream_t stream) {
  using namespace dgemu;
  Lock lock(device_mutex());
  const Stream* s = stream_of(stream, "dgemu_host_waits");
  return s ? s->host_waits : size_t(-1);
}

extern "C" size_t dgemu_graph_nodes_run(void) {
  dgemu::Lock lock(dgemu::device_mutex());
  return dgemu::streams().graph_nodes_run;
}

extern "C" size_t dgemu_forced_ops(cudaStream_t stream) {
  using namespace dgemu;
  Lock lock(device_mutex());
  const Stream* s = stream_of(stream, "dgemu_forced_ops");
  return s ? s->forced_ops : size_t(-1);
}
