// Gradient buckets (DESIGN §8, as PyTorch DDP does it): a network's flat gradient buffer cut
// at layer boundaries into pieces of at least `bucket_bytes`, taken in backward order (the
// last layers' gradients are final first). network_backward reports each finished layer;
// when the backward has passed the first layer of a bucket, that bucket's mean over the
// ranks starts (Communicator::start_mean) and runs beside the rest of the backward. The
// caller ends with Communicator::finish_means() before the optimizer reads the gradients.
//
// Layers' trainable parameters are contiguous in declaration order (conv weight, BN weight,
// BN bias; models/network.cpp; each padded to 64 floats), so a run of consecutive layers is
// one slice of the buffer.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/comm/communicator.h"
#include "models/network.h"

namespace dg {

class GradBuckets {
 public:
  struct Bucket {
    int first_layer = 0;     // the bucket starts once this layer's gradients are final
    int64_t offset = 0, count = 0;  // its slice of the flat gradient buffer
  };
  GradBuckets() = default;
  // net's parameters must be declared; bucket_bytes > 0.
  GradBuckets(const Network& net, int64_t bucket_bytes);

  // Called by network_backward once layer `layer`'s parameter gradients are final: starts the
  // mean of the bucket that begins at this layer, if one does.
  void layer_done(Context& ctx, Communicator& comm, const Tensor& grads, int layer) const;

  const std::vector<Bucket>& buckets() const { return buckets_; }  // in backward order

 private:
  std::vector<Bucket> buckets_;
  std::vector<int> bucket_at_layer_;  // per layer: the bucket whose first layer it is, or -1
  int64_t param_count_ = 0;           // the flat buffer the buckets cut
};

}  // namespace dg
