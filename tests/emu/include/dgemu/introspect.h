// What the emulator can say about itself, for dg's tests that only make sense under it (a
// leak of streams or communicators after a failed start, an injected NCCL error).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

extern "C" {
size_t dgemu_live_streams(void);
size_t dgemu_live_events(void);
size_t dgemu_live_device_allocations(void);
size_t dgemu_live_nccl_comms(void);
// The calls so far that blocked the host on `stream`'s work (0: the legacy stream): its
// synchronizes, event synchronizes on events it records, copies from it into pageable memory,
// and device synchronizes. -1 (as size_t) for a stream that is not live.
size_t dgemu_host_waits(cudaStream_t stream);
// The operations of `stream` run so far because the host waited, on it or on a stream that
// waits for it through an event (cudaEventQuery counts too: the emulator runs work when asked).
// Work the background thread runs (multi-process NCCL) is not counted.
size_t dgemu_forced_ops(cudaStream_t stream);
// The nodes the latest graph launch ran (once it has run): kernels, copies, memsets and library
// calls, those of the conditional bodies that ran included; not the conditional nodes
// themselves, nor the emulator's arena marks (a GPU build makes none).
size_t dgemu_graph_nodes_run(void);
// Conditional graph nodes from now on: 1 as CUDA 12.4+ has them (the default); 0 as an older
// driver, where cudaGraphConditionalHandleCreate fails with cudaErrorNotSupported; -1 broken,
// cudaGraphAddNode of a conditional node failing with cudaErrorUnknown; -2, the first operation
// captured into a conditional node's body failing with cudaErrorStreamCaptureUnsupported (as
// a kernel a body may not hold would; the capture is invalidated).
void dgemu_set_conditional_nodes(int mode);
// Makes collective number `n` (1-based, counted per communicator from its creation) of every
// communicator created afterwards fail asynchronously with ncclSystemError; 0 turns it off.
// DGEMU_NCCL_FAIL_AT=n does the same for a whole process.
void dgemu_nccl_fail_at(unsigned long long n);
// The order of blocks, threads and streams from now on ("forward", "reverse", "random"), as
// DGEMU_ORDER and DGEMU_SEED set it at start.
void dgemu_set_order(const char* order, unsigned long long seed);
// DGEMU_WATCHDOG_S from now on.
void dgemu_set_watchdog(double seconds);
// dg's arena in the emulator build: when `stream` gets here, [p, p + bytes) becomes in use
// (filled with NaN bytes; unpoisoned under ASan) or free (poisoned under ASan).
cudaError_t dgemu_mark_async(void* p, size_t bytes, bool in_use, cudaStream_t stream);
}
