// ParamStore: one network's parameters in flat buffers with named views.
//
// params, grads, exp_avg, exp_avg_sq: one contiguous buffer each, same layout, so Adam is
// one launch, the gradient all-reduce one call and a checkpoint one write per buffer.
// buffers: non-trained state (BatchNorm running statistics), a fifth flat buffer.
// Names follow PyTorch's DCGAN state_dict ("main.1.weight", "main.1.running_mean") so a
// checkpoint loads into PyTorch.
#pragma once
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/tensor.h"

namespace dg {

// What a tensor is, which decides its initialization (DESIGN §4).
enum class ParamKind { conv_weight, bn_weight, bn_bias, running_mean, running_var, linear_weight, linear_bias };

struct ParamView {
  std::string name;
  Shape shape;
  ParamKind kind;
  int64_t offset = 0;  // into params/grads/... (trainable) or into buffers (running stats)
  bool trainable() const { return kind != ParamKind::running_mean && kind != ParamKind::running_var; }
};

class ParamStore {
 public:
  // Declare all tensors, then allocate() once.
  void add(const std::string& name, Shape shape, ParamKind kind);
  // All five buffers (grads and moments zeroed; buffers set by init), or with `training`
  // false only the parameters and buffers (a network that only runs forward).
  void allocate(Context& ctx, bool training = true);

  const std::vector<ParamView>& views() const { return views_; }
  const ParamView& view(const std::string& name) const;
  bool allocated() const { return params_.data != nullptr; }

  // Views of a named tensor (params/grads/moments for trainable ones, buffer otherwise).
  Tensor param(const std::string& name) const;
  Tensor grad(const std::string& name) const;
  Tensor buffer(const std::string& name) const;

  // The flat buffers.
  Tensor params() const { return params_; }
  Tensor grads() const { return grads_; }  // empty (and the next two) when allocated for inference
  Tensor exp_avg() const { return exp_avg_; }
  Tensor exp_avg_sq() const { return exp_avg_sq_; }
  Tensor buffers() const { return buffers_; }
  int64_t param_count() const { return param_count_; }
  int64_t buffer_count() const { return buffer_count_; }

  void zero_grads(Context& ctx) const { ctx.fill(grads_, 0.0f); }

 private:
  Tensor at(const Tensor& flat, const ParamView& v) const;
  std::vector<ParamView> views_;
  int64_t param_count_ = 0, buffer_count_ = 0;
  Tensor params_, grads_, exp_avg_, exp_avg_sq_, buffers_;
};

// DESIGN §4 init: conv/linear weights N(0, 0.02), BN gamma N(1, 0.02), biases 0, running
// mean 0, running var 1. Tensor i of the store draws from RNG stream (stream_base + i) of
// `seed`, so each network (and each discriminator) gets its own draw by its stream_base.
void init_parameters(Context& ctx, ParamStore& store, uint64_t seed, uint64_t stream_base);

}  // namespace dg
