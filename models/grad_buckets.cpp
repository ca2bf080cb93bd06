#include "models/grad_buckets.h"

namespace dg {

// Where layer l's trainable parameters begin in the flat buffer: its conv weight, declared
// first (its BN weight and bias follow; each view is padded to 64 floats, and the padding,
// always zero, belongs to the layer before it).
static int64_t layer_begin(const Network& net, const LayerSpec& l) { return net.params.view(l.conv_name).offset; }

GradBuckets::GradBuckets(const Network& net, int64_t bucket_bytes) {
  DG_CHECK(bucket_bytes > 0, "gradient bucket size must be positive, got ", bucket_bytes, " bytes");
  const int L = int(net.layers.size());
  bucket_at_layer_.assign(size_t(L), -1);
  int64_t end = net.params.param_count();  // the bucket being filled is [begin, end)
  for (int i = L - 1; i >= 0; i--) {
    const int64_t begin = layer_begin(net, net.layers[size_t(i)]);
    DG_CHECK(i + 1 == L || begin < layer_begin(net, net.layers[size_t(i + 1)]), net.name, ": layer ", i,
             "'s parameters (offset ", begin, ") do not come before layer ", i + 1, "'s (offset ",
             i + 1 == L ? 0 : layer_begin(net, net.layers[size_t(i + 1)]),
             ") in the flat buffer; gradient buckets need layer order");
    if ((end - begin) * int64_t(sizeof(float)) >= bucket_bytes || i == 0) {
      bucket_at_layer_[size_t(i)] = int(buckets_.size());
      buckets_.push_back({i, begin, end - begin});
      end = begin;
    }
  }
  DG_CHECK(end == 0, net.name, ": the first layer's parameters start at offset ", end,
           ", not at the start of the flat buffer");
  param_count_ = net.params.param_count();
}

void GradBuckets::layer_done(Context& ctx, Communicator& comm, const Tensor& grads, int layer) const {
  DG_CHECK(layer >= 0 && layer < int(bucket_at_layer_.size()), "gradient buckets: layer ", layer,
           " reported, the network has ", bucket_at_layer_.size());
  DG_CHECK(grads.numel() == param_count_, "gradient buckets of ", param_count_, " parameters handed a buffer of ",
           grads.numel());
  const int b = bucket_at_layer_[size_t(layer)];
  if (b < 0) return;
  const Bucket& k = buckets_[size_t(b)];
  comm.start_mean(ctx, grads.slice(k.offset, {int(k.count)}));
}

}  // namespace dg
