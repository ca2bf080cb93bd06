#include "engine/arena.h"

#include <cstdlib>

#include "engine/error.h"

namespace dg {

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
  return b;
}

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

Arena::Arena(ArenaBacking backing, size_t block_bytes)
    : backing_(std::move(backing)), block_bytes_(block_bytes) {}

Arena::~Arena() {
  for (Block& b : blocks_) backing_.release(b.base);
}

void* Arena::allocate(size_t bytes) {
  size_t need = round_up(bytes == 0 ? 1 : bytes, kAlignment);
  // Find room at or after the current block; later blocks are free space left by release().
  while (current_ < blocks_.size() && offset_ + need > blocks_[current_].size) {
    current_++;
    offset_ = 0;
  }
  if (current_ == blocks_.size()) {
    size_t size = need > block_bytes_ ? need : block_bytes_;
    blocks_.push_back({static_cast<char*>(backing_.allocate(size)), size});
    reserved_ += size;
    offset_ = 0;
  }
  void* p = blocks_[current_].base + offset_;
  offset_ += need;
  in_use_ += need;
  if (in_use_ > peak_) peak_ = in_use_;
  return p;
}

void Arena::release(Mark m) {
  DG_CHECK(m.block < current_ || (m.block == current_ && m.offset <= offset_),
           "arena release to a mark that is not below the current position");
  current_ = m.block;
  offset_ = m.offset;
  in_use_ = m.in_use;
}

}  // namespace dg
