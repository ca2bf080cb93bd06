// A Communicator that forwards to another and counts the collectives a trainer issues, so a
// test can see that an option it sets is used (and not only that results agree).
#pragma once
#include <cstdint>

#include "engine/comm/communicator.h"

namespace dg::test {

class Counting final : public Communicator {
 public:
  explicit Counting(Communicator& inner) : inner_(inner) {}
  const char* name() const override { return inner_.name(); }
  int rank() const override { return inner_.rank(); }
  int world_size() const override { return inner_.world_size(); }
  void all_reduce_sum(Context& ctx, double* v, int64_t n) override {
    sums++;
    inner_.all_reduce_sum(ctx, v, n);
  }
  void broadcast(Context& ctx, Tensor t, int root) override { inner_.broadcast(ctx, t, root); }
  void start_mean(Context& ctx, Tensor t) override {
    means++;
    inner_.start_mean(ctx, t);
  }
  void finish_means(Context& ctx) override { inner_.finish_means(ctx); }
  void check_errors() override { inner_.check_errors(); }
  int64_t max_over_ranks(int64_t v) override { return inner_.max_over_ranks(v); }
  void broadcast_host(void* d, size_t bytes, int root) override { inner_.broadcast_host(d, bytes, root); }
  int64_t means = 0, sums = 0;

 private:
  Communicator& inner_;
};

}  // namespace dg::test
