// Stream capture of the emulated runtime (the graphs it records run in graphs.cpp).
//
// Capture (cudaStreamBeginCapture ... cudaStreamEndCapture) records operations into a graph
// instead of queueing them; an event recorded in a capturing stream and waited for by another
// stream pulls that stream into the capture (fork), and the origin must wait for the other
// streams' last work before the capture ends (join). Calls that CUDA forbids during a capture
// in the global or thread-local mode (cudaMalloc, synchronous copies, synchronizations,
// copies with pageable memory, ...) fail with cudaErrorStreamCaptureUnsupported and
// invalidate the capture, whose end then reports cudaErrorStreamCaptureInvalidated.
#include <algorithm>
#include <string>
#include <thread>

#include "streams.h"

namespace dgemu {

namespace {

// `returned`: the caller got the capture's graph handle (or owned it: a capture to a graph).
void end_capture(Capture* c, bool returned = false) {
  if (!returned && !c->to_graph) delete c->handle;
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

}  // namespace

void join_capture(Stream* s, Capture* c) {
  s->capture = c;
  if (std::find(c->streams.begin(), c->streams.end(), s) == c->streams.end()) c->streams.push_back(s);
}

bool stream_capturing(const Stream* s) { return s && s->capture != nullptr; }
bool capture_invalidated(const Stream* s) { return stream_capturing(s) && s->capture->invalidated; }

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

}  // namespace dgemu

using namespace dgemu;

extern "C" {

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
  c->id = streams().next_capture_id++;
  c->handle = new dgemu_graph{c->graph};
  join_capture(s, c.get());
  s->tail.clear();
  streams().captures.push_back(std::move(c));
  return cudaSuccess;
}

// Like cudaStreamBeginCapture, into `graph` (which the end returns), the first captured
// operation depending on `dependencies` (nodes of `graph`).
cudaError_t cudaStreamBeginCaptureToGraph(cudaStream_t stream, cudaGraph_t graph, const cudaGraphNode_t* dependencies,
                                          const cudaGraphEdgeData* dependencyData, size_t numDependencies,
                                          cudaStreamCaptureMode mode) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaStreamBeginCaptureToGraph");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (!graph) return fail(cudaErrorInvalidValue, "cudaStreamBeginCaptureToGraph: graph is null");
  if (numDependencies > 0 && !dependencies)
    return fail(cudaErrorInvalidValue, "cudaStreamBeginCaptureToGraph: numDependencies > 0 and dependencies null");
  if (dependencyData)
    return fail(cudaErrorNotSupported, "cudaStreamBeginCaptureToGraph: the emulator takes no edge data (dependencyData)");
  if (s->legacy) return fail(cudaErrorStreamCaptureUnsupported, "cudaStreamBeginCaptureToGraph on the legacy default stream");
  if (s->capture) return fail(cudaErrorIllegalState, "cudaStreamBeginCaptureToGraph: stream " + std::to_string(s->id) + " is already capturing");
  std::vector<int> tail;
  for (size_t i = 0; i < numDependencies; i++) {
    if (!dependencies[i] || dependencies[i]->graph != graph->data.get())
      return fail(cudaErrorInvalidValue, "cudaStreamBeginCaptureToGraph: dependency " + std::to_string(i) + " is not a node of the graph");
    tail.push_back(dependencies[i]->index);
  }
  auto c = std::make_unique<Capture>();
  c->origin = s;
  c->mode = mode;
  c->thread = std::this_thread::get_id();
  c->id = streams().next_capture_id++;
  c->graph = graph->data;
  c->handle = graph;
  c->to_graph = true;
  join_capture(s, c.get());
  s->tail = tail;
  streams().captures.push_back(std::move(c));
  return cudaSuccess;
}

cudaError_t cudaStreamGetCaptureInfo(cudaStream_t stream, cudaStreamCaptureStatus* captureStatus_out,
                                     unsigned long long* id_out, cudaGraph_t* graph_out,
                                     const cudaGraphNode_t** dependencies_out, const cudaGraphEdgeData** edgeData_out,
                                     size_t* numDependencies_out) {
  Lock lock(device_mutex());
  Stream* s = stream_of(stream, "cudaStreamGetCaptureInfo");
  if (!s) return cudaErrorInvalidResourceHandle;
  if (!captureStatus_out) return fail(cudaErrorInvalidValue, "cudaStreamGetCaptureInfo: captureStatus_out is null");
  Capture* c = s->capture;
  *captureStatus_out = !c ? cudaStreamCaptureStatusNone
                       : c->invalidated ? cudaStreamCaptureStatusInvalidated
                                        : cudaStreamCaptureStatusActive;
  if (!c) return cudaSuccess;  // (the other outputs are left as they were)
  if (id_out) *id_out = c->id;
  if (graph_out) *graph_out = c->handle;
  s->tail_handles.clear();
  for (int n : s->tail) s->tail_handles.push_back(node_handle(*c->graph, n));
  if (dependencies_out) *dependencies_out = s->tail_handles.data();
  if (edgeData_out) *edgeData_out = nullptr;
  if (numDependencies_out) *numDependencies_out = s->tail_handles.size();
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
  dgemu_graph* g = c->handle;
  const bool to_graph = c->to_graph;
  end_capture(c, true);
  if (graph) *graph = g;
  else if (!to_graph) delete g;
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

}  // extern "C"
