// Gradient buckets (models/grad_buckets.h): the cut of a flat gradient buffer, and that each
// bucket's mean starts only once the backward has finished every gradient in it, and before
// the backward goes on to the layers below. A recording communicator stands in for the ranks:
// at every start_mean it keeps a copy of the slice it was handed, which must equal that slice
// after the backward, and notes whether the earlier layers' gradients were still untouched.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "models/dcgan.h"
#include "models/gan_trainer.h"
#include "models/grad_buckets.h"
#include "tests/counting_communicator.h"
#include "kernels/random/random.h"

using namespace dg;

namespace {

struct Started {
  int64_t offset = 0;
  std::vector<float> values;  // the slice's contents when the mean started
  bool earlier_layers_zero;   // whether the gradients below the slice were all still zero
};

class Recorder final : public Communicator {
 public:
  explicit Recorder(const float* base) : base_(base) {}
  const char* name() const override { return "recorder"; }
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(Context&, double*, int64_t) override {}
  void broadcast(Context&, Tensor, int) override {}
  void start_mean(Context&, Tensor t) override {
    bool zero = true;
    for (const float* p = base_; p < t.data; p++) zero = zero && *p == 0.0f;
    started.push_back({t.data - base_, {t.data, t.data + t.numel()}, zero});
  }
  void finish_means(Context&) override { finished++; }
  int64_t max_over_ranks(int64_t v) override { return v; }
  void broadcast_host(void*, size_t, int) override {}
  std::vector<Started> started;
  int finished = 0;

 private:
  const float* base_;
};

ModelConfig small_model() {
  ModelConfig m;
  m.nz = 8;
  m.ngf = 8;
  m.ndf = 8;
  m.channels = 1;
  m.image_size = 32;
  return m;
}

// Layer i's parameters and their padding: from its conv weight to the next layer's.
int64_t layer_span(const Network& net, int i) {
  const int64_t begin = net.params.view(net.layers[size_t(i)].conv_name).offset;
  return (i + 1 < int(net.layers.size()) ? net.params.view(net.layers[size_t(i + 1)].conv_name).offset
                                         : net.params.param_count()) - begin;
}

}  // namespace

TEST_CASE("buckets cut the flat gradient buffer at layer boundaries, last layers first") {
  const Network g = build_generator(small_model());
  const int L = int(g.layers.size());
  SUBCASE("one byte: one bucket per layer") {
    const GradBuckets b(g, 1);
    REQUIRE(int(b.buckets().size()) == L);
    for (int k = 0; k < L; k++) {
      CHECK(b.buckets()[size_t(k)].first_layer == L - 1 - k);
      CHECK(b.buckets()[size_t(k)].count == layer_span(g, L - 1 - k));
      CHECK(b.buckets()[size_t(k)].count >= g.params.view(g.layers[size_t(L - 1 - k)].conv_name).shape.numel());
    }
  }
  SUBCASE("larger than the network: one bucket") {
    const GradBuckets b(g, int64_t(1) << 30);
    REQUIRE(b.buckets().size() == 1);
    CHECK(b.buckets()[0].first_layer == 0);
    CHECK(b.buckets()[0].offset == 0);
    CHECK(b.buckets()[0].count == g.params.param_count());
  }
  SUBCASE("in between: contiguous, covering, each at least the size but the last") {
    const int64_t bytes = g.params.param_count();  // a quarter of the buffer's bytes
    const GradBuckets b(g, bytes);
    CHECK(b.buckets().size() > 1);
    int64_t end = g.params.param_count();
    for (size_t k = 0; k < b.buckets().size(); k++) {
      const GradBuckets::Bucket& x = b.buckets()[k];
      CHECK(x.offset + x.count == end);
      // It starts when its lowest layer is done: the layer whose parameters begin the slice.
      CHECK(g.params.view(g.layers[size_t(x.first_layer)].conv_name).offset == x.offset);
      if (k + 1 < b.buckets().size()) CHECK(x.count * 4 >= bytes);
      end = x.offset;
    }
    CHECK(end == 0);
  }
  CHECK_THROWS_WITH_AS(GradBuckets(g, 0), doctest::Contains("bucket size must be positive, got 0"), Error);
  Context ctx;
  Recorder rec(nullptr);
  const GradBuckets b(g, 1);
  CHECK_THROWS_WITH_AS(b.layer_done(ctx, rec, ctx.zeros({100}), 0),
                       doctest::Contains("parameters handed a buffer of 100"), Error);
}

TEST_CASE("each bucket's mean starts once its gradients are final, before the layers below run") {
  Context ctx;
  for (bool is_g : {true, false}) {
    CAPTURE(is_g);
    Network net = is_g ? build_generator(small_model()) : build_discriminator(small_model(), 0);
    net.params.allocate(ctx);
    init_parameters(ctx, net.params, 3, 10);
    ScratchScope scratch(ctx);
    Tensor x = ctx.alloc({4, net.in_channels, net.in_size, net.in_size});
    fill_normal(ctx, x, 0.0f, 1.0f, 5, 1, 0);
    Trace t = network_forward(ctx, net, x, Mode::train);
    Tensor dy = ctx.alloc(t.output().shape);
    fill_normal(ctx, dy, 0.0f, 1.0f, 5, 2, 0);
    const Tensor grads = net.params.grads();
    // A bucket per layer, then buckets of several layers (a quarter of the buffer each):
    // a bucket of several layers must wait for the lowest of them.
    for (int64_t bytes : {int64_t(1), net.params.param_count()}) {
      CAPTURE(bytes);
      const GradBuckets buckets(net, bytes);
      if (bytes > 1) CHECK(buckets.buckets().size() < net.layers.size());
      Recorder rec(grads.data);
      net.params.zero_grads(ctx);
      network_backward(ctx, net, t, dy, Tensor{}, true,
                       [&](int layer) { buckets.layer_done(ctx, rec, grads, layer); });
      REQUIRE(rec.started.size() == buckets.buckets().size());
      bool nonzero = false;
      for (size_t k = 0; k < rec.started.size(); k++) {
        const GradBuckets::Bucket& b = buckets.buckets()[k];
        CAPTURE(k);
        CHECK(rec.started[k].offset == b.offset);
        REQUIRE(int64_t(rec.started[k].values.size()) == b.count);
        CHECK(std::memcmp(rec.started[k].values.data(), grads.data + b.offset, size_t(b.count) * 4) == 0);
        CHECK(rec.started[k].earlier_layers_zero);
        for (float v : rec.started[k].values) nonzero = nonzero || v != 0.0f;
      }
      CHECK(nonzero);  // (a hook firing before any gradient was written would see zeros)
    }
  }
}

TEST_CASE("the trainer starts one mean per bucket and step, and none without buckets") {
  Context ctx;
  std::unique_ptr<Communicator> alone = make_single_process_communicator();
  ModelConfig m = small_model();
  for (int64_t bytes : {int64_t(0), int64_t(1)}) {
    CAPTURE(bytes);
    TrainConfig cfg;
    cfg.model = m;
    cfg.batch_size = 4;
    cfg.grad_bucket_bytes = bytes;
    dg::test::Counting counted(*alone);
    GanTrainer trainer(ctx, cfg, &counted);
    trainer.init_weights();
    Tensor real = ctx.alloc({4, 1, 32, 32});
    fill_normal(ctx, real, 0.0f, 0.5f, 3, 3, 0);
    for (int step = 0; step < 3; step++) trainer.train_step(real);
    // One rank averages no losses; without buckets each network is one mean after its backward.
    int64_t per_step = bytes == 0 ? 1 + cfg.discriminators : int64_t(trainer.generator().layers.size());
    if (bytes > 0)
      for (Network& d : trainer.discriminators()) per_step += int64_t(d.layers.size());
    CHECK(counted.means == 3 * per_step);
    CHECK(counted.sums == 0);
  }
}
