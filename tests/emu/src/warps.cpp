// Kernels on the host: warp exchanges (_sync shuffles, votes, __syncwarp). A lane waits at one
// until the lanes its mask names have arrived; the block scheduler (blocks.cpp) then completes
// the exchange.
//
// The checks (each aborts naming the kernel, its launch and the source lines; CUDA C++
// Programming Guide, "Warp Shuffle Functions"):
//  - a warp exchange (_sync shuffle, vote, __syncwarp) names its lanes in a mask that holds the
//    caller; every named lane that has not exited must reach the same intrinsic with the same
//    mask (and width); a named lane that does not exist, or that waits at __syncthreads
//    instead, is divergent;
//  - a value read from a lane that does not take part is undefined: the emulator returns NaN
//    bytes (0xff);
#include <algorithm>
#include <string>

#include "blocks.h"

namespace dgemu {

namespace {

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync: return "__syncwarp";
    case WarpOp::shfl: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync";
    case WarpOp::all: return "__all_sync";
  }
  return "?";
}

}  // namespace

// The lanes of warp w that wait at warp exchanges: completes every group whose named lanes
// have all arrived. Returns whether one completed.
bool resolve_warp(BlockRun& b, int w) {
  const int first = 32 * w, count = std::min(32, b.threads - first);
  int leader = -1;
  for (int j = 0; j < count; j++)
    if (b.lanes[size_t(first + j)].state == State::at_warp) {
      leader = j;
      break;
    }
  if (leader < 0) return false;
  const Lane& L = b.lanes[size_t(first + leader)];
  const std::string at = std::string(op_name(L.op)) + " at " + where(L.site);
  if (!(L.mask >> leader & 1u))
    fatal(lane_name(b, first + leader) + " calls " + at + " with mask " + hex(reinterpret_cast<void*>(uintptr_t(L.mask))) +
          ", which does not name the calling lane");
  if (L.op != WarpOp::sync && (L.width < 1 || L.width > 32 || (L.width & (L.width - 1))))
    fatal(at + ": width " + std::to_string(L.width) + " is not a power of 2 up to 32");
  unsigned present = 0;  // named lanes that take part (not exited)
  for (int j = 0; j < 32; j++) {
    if (!(L.mask >> j & 1u)) continue;
    if (j >= count)
      fatal(at + ": the mask names lane " + std::to_string(j) + " of warp " + std::to_string(w) +
            ", which does not exist in a block of " + std::to_string(b.threads) + " threads");
    const Lane& o = b.lanes[size_t(first + j)];
    if (o.state == State::exited) continue;
    if (o.state == State::at_barrier)
      fatal("divergent warp: " + lane_name(b, first + leader) + " waits at " + at + " for lane " + std::to_string(j) +
            ", which waits at __syncthreads at " + where(o.site));
    if (o.state != State::at_warp)
      fatal("divergent warp: lane " + std::to_string(j) + " never reached " + at);
    if (o.op != L.op || o.mask != L.mask || o.width != L.width)
      fatal("divergent warp: " + lane_name(b, first + leader) + " is at " + at + " (mask " +
            hex(reinterpret_cast<void*>(uintptr_t(L.mask))) + ") while " + lane_name(b, first + j) + " is at " +
            op_name(o.op) + " at " + where(o.site) + " (mask " + hex(reinterpret_cast<void*>(uintptr_t(o.mask))) + ")");
    present |= 1u << j;
  }
  unsigned ballot = 0;  // the predicates of the lanes taking part
  for (int j = 0; j < 32; j++)
    if (present >> j & 1u && b.lanes[size_t(first + j)].bits) ballot |= 1u << j;
  for (int j = 0; j < 32; j++) {
    if (!(present >> j & 1u)) continue;
    Lane& me = b.lanes[size_t(first + j)];
    const int seg = j & ~(L.width - 1);  // the first lane of this lane's width-wide segment
    int src = j;
    switch (L.op) {
      case WarpOp::sync:
      case WarpOp::ballot:
      case WarpOp::all: break;
      case WarpOp::shfl: src = seg + (((me.arg % L.width) + L.width) % L.width); break;
      case WarpOp::shfl_up: src = (j - seg) >= me.arg ? j - me.arg : j; break;
      case WarpOp::shfl_down: src = (j - seg) + me.arg < L.width ? j + me.arg : j; break;
      case WarpOp::shfl_xor: src = (j ^ me.arg) < seg + L.width ? (j ^ me.arg) : j; break;
    }
    if (L.op == WarpOp::ballot) me.result = ballot;
    else if (L.op == WarpOp::all) me.result = ballot == present;
    else if (L.op == WarpOp::sync) me.result = 0;
    else if (src < 0 || src >= 32 || !(present >> src & 1u)) me.result = ~uint64_t(0);  // undefined: NaN bytes
    else me.result = b.lanes[size_t(first + src)].bits;
    me.state = State::runnable;
  }
  return true;
}

// ---- the call made by device code (tests/emu/include/dgemu/device.h) ----

uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t bits, int bytes, int arg, int width,
                       std::source_location site) {
  if (!tl_block || tl_block->current < 0) fatal(std::string(op_name(op)) + " called outside a kernel at " + where(site));
  Lane& l = tl_block->lanes[size_t(tl_block->current)];
  l.state = State::at_warp;
  l.op = op;
  l.mask = mask;
  l.bits = bits;
  l.bytes = bytes;
  l.arg = arg;
  l.width = width;
  l.site = site;
  suspend_lane();
  return l.result;
}

}  // namespace dgemu
