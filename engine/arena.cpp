#include "engine/arena.h"

#include <cstdlib>

#include "engine/asan.h"
#include "engine/error.h"

namespace dg {

#if defined(DG_ASAN) || defined(DG_CUDA_EMU)
const size_t Arena::kGuardBytes = 256;
#else
const size_t Arena::kGuardBytes = 0;
#endif

ArenaBacking host_backing() {
  ArenaBacking b;
  b.allocate = [](size_t bytes) {
    // aligned_alloc wants a size that is a multiple of the alignment.
    bytes = (bytes + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment;
    void* p = std::aligned_alloc(Arena::kAlignment, bytes);
    DG_CHECK(p != nullptr, "out of host memory allocating ", bytes, " bytes");
    return p;
  };
  b.release = [](void* p) { std::free(p); };
  b.name = "host";
#ifdef DG_ASAN
  b.on_change = [](void* p, size_t bytes, bool in_use) {
    if (in_use) ASAN_UNPOISON_MEMORY_REGION(p, bytes);
    else ASAN_POISON_MEMORY_REGION(p, bytes);
  };
#endif
  return b;
}

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

Arena::Arena(ArenaBacking backing, size_t block_bytes)
    : backing_(std::move(backing)), block_bytes_(block_bytes) {}

Arena::~Arena() {
  for (Block& b : blocks_) {
    if (backing_.on_change) backing_.on_change(b.base, b.size, true);  // hand it back whole
    backing_.release(b.base);
  }
}

// An allocation starts a block, or follows the previous one after a guard zone.
static size_t start_at(size_t offset) { return offset == 0 ? 0 : offset + Arena::kGuardBytes; }

void* Arena::allocate(size_t bytes) {
  size_t need = round_up(bytes == 0 ? 1 : bytes, kAlignment);
  // Find room at or after the current block; later blocks are free space left by release().
  while (current_ < blocks_.size() && start_at(offset_) + need > blocks_[current_].size) {
    current_++;
    offset_ = 0;
  }
  if (current_ == blocks_.size()) {
    size_t size = need > block_bytes_ ? need : block_bytes_;
    blocks_.push_back({static_cast<char*>(backing_.allocate(size)), size});
    if (backing_.on_change) backing_.on_change(blocks_.back().base, size, false);
    reserved_ += size;
    offset_ = 0;
  }
  const size_t at = start_at(offset_);
  void* p = blocks_[current_].base + at;
  offset_ = at + need;
  in_use_ += need;
  if (in_use_ > peak_) peak_ = in_use_;
  if (workspace_depth_ == 0 && in_use_ > held_peak_) held_peak_ = in_use_;
  if (backing_.on_change) backing_.on_change(p, bytes, true);
  return p;
}

void Arena::reuse(void* range, size_t range_bytes, size_t bytes) {
  DG_CHECK(bytes <= range_bytes, "arena reuse of ", bytes, " bytes of a ", range_bytes, "-byte range");
  if (!backing_.on_change) return;
  backing_.on_change(range, range_bytes, false);
  backing_.on_change(range, bytes, true);
}

void Arena::release(Mark m) {
  DG_CHECK(m.block < current_ || (m.block == current_ && m.offset <= offset_),
           "arena release to a mark that is not below the current position");
  if (backing_.on_change)  // everything after the mark is free again
    for (size_t b = m.block; b <= current_ && b < blocks_.size(); b++) {
      const size_t from = b == m.block ? m.offset : 0, to = b == current_ ? offset_ : blocks_[b].size;
      if (to > from) backing_.on_change(blocks_[b].base + from, to - from, false);
    }
  current_ = m.block;
  offset_ = m.offset;
  in_use_ = m.in_use;
}

}  // namespace dg
