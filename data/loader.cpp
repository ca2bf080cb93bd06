#include "data/loader.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "data/data_error.h"
#include "data/preprocess.h"
#include "data/shuffle.h"

namespace dg::data {
namespace {

constexpr size_t kAlignBytes = 64;

float* aligned_floats(size_t bytes) {
  size_t rounded = (bytes + kAlignBytes - 1) / kAlignBytes * kAlignBytes;  // aligned_alloc wants a multiple
  return static_cast<float*>(std::aligned_alloc(kAlignBytes, rounded));
}

void check_config(const ImageSet& set, const LoaderConfig& c) {
  const std::string& src = set.source;
  if (set.count < 1) data_fail(src, "the data set is empty");
  if (c.batch_size < 1) data_fail(src, "batch size ", c.batch_size, " must be positive");
  if (c.image_size < 1) data_fail(src, "image size ", c.image_size, " must be positive");
  if (c.world_size < 1) data_fail(src, "world size ", c.world_size, " must be positive");
  if (c.rank < 0 || c.rank >= c.world_size) data_fail(src, "rank ", c.rank, " outside 0..", c.world_size - 1);
  if (c.prefetch < 0) data_fail(src, "prefetch ", c.prefetch, " must not be negative");
  check_channels(set, c.channels);
}

}  // namespace

Loader::Loader(const ImageSet& set, LoaderConfig cfg) : set_(set), cfg_(cfg) {
  check_config(set, cfg);
  per_rank_ = set.count / cfg.world_size;
  batches_per_epoch_ = cfg.drop_last ? per_rank_ / cfg.batch_size : (per_rank_ + cfg.batch_size - 1) / cfg.batch_size;
  if (batches_per_epoch_ == 0) {
    data_fail(set.source, set.count, " images over ", cfg.world_size, " ranks leave ", per_rank_,
              " per rank, not one full batch of ", cfg.batch_size);
  }
  sample_floats_ = size_t(cfg.channels) * cfg.image_size * cfg.image_size;
  const size_t batch_bytes = size_t(cfg.batch_size) * sample_floats_ * sizeof(float);
  slots_.resize(size_t(cfg.prefetch) + 1);
  for (Slot& s : slots_) {
    s.images = HostBuffer(aligned_floats(batch_bytes));
    if (!s.images) throw std::bad_alloc();
    if (!set.labels.empty()) s.labels.resize(size_t(cfg.batch_size));
  }
  if (cfg.prefetch > 0) thread_ = std::thread([this] { produce_loop(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

const std::vector<int32_t>& Loader::shard_of_epoch(int64_t epoch) {
  if (epoch != shard_epoch_) {
    std::vector<int32_t> order = epoch_permutation(cfg_.seed, epoch, set_.count);
    shard_.resize(size_t(per_rank_));
    for (int64_t j = 0; j < per_rank_; j++) shard_[size_t(j)] = order[size_t(cfg_.rank + cfg_.world_size * j)];
    shard_epoch_ = epoch;
  }
  return shard_;
}

void Loader::fill(Slot& slot, int64_t step) {
  const std::vector<int32_t>& shard = shard_of_epoch(step / batches_per_epoch_);
  const int64_t first = (step % batches_per_epoch_) * cfg_.batch_size;
  slot.rows = int(std::min<int64_t>(cfg_.batch_size, per_rank_ - first));
  for (int r = 0; r < slot.rows; r++) {
    int32_t index = shard[size_t(first + r)];
    preprocess_image(set_, index, cfg_.image_size, cfg_.channels, slot.images.get() + size_t(r) * sample_floats_);
    if (!slot.labels.empty()) {
      // Checked here, not in the constructor, so a bad set fails like a bad image would.
      if (size_t(index) >= set_.labels.size()) data_fail(set_.source, "image ", index, " has no label");
      slot.labels[size_t(r)] = set_.labels[size_t(index)];
    }
  }
}

void Loader::produce_loop() {
  const int64_t ahead = cfg_.prefetch;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || (!error_ && produce_step_ < next_step_ + ahead); });
    if (stop_) return;
    const int64_t step = produce_step_;
    const uint64_t generation = generation_;
    // The ring has one slot more than `ahead`: the one next() handed out last, which
    // this step's slot never is, so the caller's batch stays intact while we fill.
    Slot& slot = slots_[size_t(step % int64_t(slots_.size()))];
    slot.step = -1;
    lock.unlock();
    std::exception_ptr failure;
    try {
      fill(slot, step);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    if (generation != generation_) continue;  // seek() moved the stream meanwhile
    if (failure) {
      error_ = failure;
      error_step_ = step;
    } else {
      slot.step = step;
      produce_step_ = step + 1;
    }
    cv_.notify_all();
  }
}

const float* Loader::hand_out(Slot& slot, int64_t step) {
  last_rows_ = slot.rows;
  last_labels_ = slot.labels.empty() ? nullptr : slot.labels.data();
  next_step_ = step + 1;
  return slot.images.get();
}

const float* Loader::next() {
  if (cfg_.prefetch == 0) {
    std::lock_guard<std::mutex> lock(mutex_);  // no thread; only for step()'s sake
    fill(slots_[0], next_step_);
    return hand_out(slots_[0], next_step_);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  const int64_t step = next_step_;
  Slot& slot = slots_[size_t(step % int64_t(slots_.size()))];
  cv_.wait(lock, [&] { return slot.step == step || (error_ && error_step_ == step); });
  if (slot.step != step) std::rethrow_exception(error_);  // stays: a retry throws again
  const float* images = hand_out(slot, step);
  lock.unlock();
  cv_.notify_all();  // a slot came free
  return images;
}

int64_t Loader::epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_step_ / batches_per_epoch_;
}

int64_t Loader::step() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_step_;
}

void Loader::seek(int64_t step) {
  if (step < 0) data_fail(set_.source, "cannot seek to batch ", step);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_++;
    next_step_ = produce_step_ = step;
    error_ = nullptr;
    error_step_ = -1;
    for (Slot& s : slots_) s.step = -1;
  }
  last_rows_ = 0;
  last_labels_ = nullptr;
  cv_.notify_all();
}

}  // namespace dg::data
