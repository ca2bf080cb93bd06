// Loader: the endless stream of preprocessed training batches one rank consumes.
//
// Order. Batch number t (counted from 0 over the whole run) is batch b = t % P of epoch
// e = t / P, P = batches_per_epoch(). Epoch e visits the images in the order
// epoch_permutation(seed, e, count) (shuffle.h), which depends on nothing else.
// Shards. With W = world_size ranks, rank r takes positions r, r + W, r + 2W, ... of
// that permutation (strided), count / W of them, so every rank gets the same number of
// images and batches; the count % W positions at the end of the permutation are left out
// of this epoch (a different few each epoch). The shards of one epoch are disjoint and
// cover all but those positions.
// Batches. Batch b of an epoch is shard positions [b*B, (b+1)*B); with drop_last the
// partial tail of the shard is skipped, without it the last batch has fewer rows.
//
// Prefetch. A thread fills a ring of buffers with the next `prefetch` batches while the
// caller trains on the current one (prefetch = 0: no thread, next() does the work). What
// a batch holds depends only on its number t, so the sequence is the same for any
// prefetch depth or timing, and seek(t) restarts it exactly at t. An exception thrown
// while preparing batch t (a bad image) is rethrown by the next() that would return t.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/image_set.h"

namespace dg::data {

struct LoaderConfig {
  int batch_size;        // B
  int image_size;        // S: batches are (B, channels, S, S)
  int channels;          // 1 or 3 (see preprocess.h)
  uint64_t seed;         // the shuffle seed; same seed, same order
  int rank = 0, world_size = 1;
  int prefetch = 2;      // batches prepared ahead of the one in use
  bool drop_last = true;
};

class Loader {
 public:
  // `set` must outlive the Loader. (Batches reach a GPU through engine/batch_upload.h's
  // pinned buffers.)
  Loader(const ImageSet& set, LoaderConfig cfg);
  ~Loader();  // stops and joins the thread, frees the buffers
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Blocks until batch step() is ready and hands it out: (batch_rows(), channels, S, S)
  // floats in [-1, 1], valid until the next call of next() or seek().
  const float* next();
  // Rows of the batch next() last returned: batch_size, except for the short last batch
  // of an epoch when drop_last is false.
  int batch_rows() const { return last_rows_; }
  // Labels of the batch next() last returned (batch_rows() of them), or nullptr when the
  // set has no labels.
  const int32_t* labels() const { return last_labels_; }

  int64_t epoch() const;  // epoch of the batch next() returns next (= epochs completed)
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t step() const;   // batches handed out so far = number of the next batch
  // Positions the stream so that next() returns batch number `step` of the same
  // sequence an uninterrupted run sees (for resuming from a checkpoint).
  void seek(int64_t step);

 private:
  struct FreeFloats {
    void operator()(float* p) const { std::free(p); }
  };
  using HostBuffer = std::unique_ptr<float, FreeFloats>;  // aligned_alloc'd
  struct Slot {
    HostBuffer images;            // (batch_size, channels, S, S)
    std::vector<int32_t> labels;  // (batch_size), filled when the set has labels
    int rows = 0;
    int64_t step = -1;            // batch held, -1 while empty or being filled
  };

  void fill(Slot& slot, int64_t step);
  const std::vector<int32_t>& shard_of_epoch(int64_t epoch);
  void produce_loop();
  const float* hand_out(Slot& slot, int64_t step);

  const ImageSet& set_;
  const LoaderConfig cfg_;
  int64_t per_rank_ = 0;            // images of each rank's shard per epoch
  int64_t batches_per_epoch_ = 0;
  size_t sample_floats_ = 0;        // channels * S * S
  std::vector<Slot> slots_;         // prefetch + 1: the batches ahead and the one in use

  // Touched only by whoever fills (the thread, or next() when prefetch is 0).
  int64_t shard_epoch_ = -1;
  std::vector<int32_t> shard_;

  // Set by next(), read by the caller only.
  int last_rows_ = 0;
  const int32_t* last_labels_ = nullptr;

  // Shared with the thread, guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  int64_t next_step_ = 0;        // the batch next() returns next
  int64_t produce_step_ = 0;     // the batch the thread fills next
  uint64_t generation_ = 0;      // bumped by seek(): a fill begun before it is discarded
  std::exception_ptr error_;     // what preparing batch error_step_ threw
  int64_t error_step_ = -1;
  bool stop_ = false;
  std::thread thread_;           // last member: started after everything it uses exists
};

}  // namespace dg::data
