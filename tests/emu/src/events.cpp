// Events of the emulated runtime: records, waits (cudaStreamWaitEvent, which may also fork a
// capture into another stream), synchronization and timing.
#include <algorithm>
#include <chrono>

#include "streams.h"

using namespace dgemu;

extern "C" {

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
  note_host_wait({t->owner});
  run_until([t] { return t->done; }, "cudaEventSynchronize", {t->owner}, t);
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  Lock lock(device_mutex());
  if (!live_event(event)) return fail(cudaErrorInvalidResourceHandle, "cudaEventQuery: not a live event");
  if (event->capture) return fail(cudaErrorCapturedEvent, "cudaEventQuery on an event recorded in a capture");
  if (!event->token) return cudaSuccess;
  TokenPtr t = event->token;
  run_until([t] { return t->done; }, "cudaEventQuery", {t->owner}, t);
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

}  // extern "C"
