#include "engine/param_store.h"

#include "kernels/random/random.h"

namespace dg {

void ParamStore::add(const std::string& name, Shape shape, ParamKind kind) {
  DG_CHECK(!allocated(), "ParamStore::add(", name, ") after allocate()");
  for (const ParamView& v : views_) DG_CHECK(v.name != name, "ParamStore: duplicate tensor name ", name);
  ParamView v{name, shape, kind, 0};
  // Keep every view 64-float aligned so vectorized kernels can treat each as aligned.
  auto aligned = [](int64_t n) { return (n + 63) / 64 * 64; };
  if (v.trainable()) {
    v.offset = param_count_;
    param_count_ += aligned(shape.numel());
  } else {
    v.offset = buffer_count_;
    buffer_count_ += aligned(shape.numel());
  }
  views_.push_back(v);
}

void ParamStore::allocate(Context& ctx, bool training) {
  DG_CHECK(!allocated(), "ParamStore::allocate() called twice");
  DG_CHECK(param_count_ > 0, "ParamStore::allocate(): no parameters declared");
  params_ = ctx.zeros({int(param_count_)});
  if (training) {
    grads_ = ctx.zeros({int(param_count_)});
    exp_avg_ = ctx.zeros({int(param_count_)});
    exp_avg_sq_ = ctx.zeros({int(param_count_)});
  }
  buffers_ = ctx.zeros({int(buffer_count_ > 0 ? buffer_count_ : 1)});
}

const ParamView& ParamStore::view(const std::string& name) const {
  for (const ParamView& v : views_)
    if (v.name == name) return v;
  DG_FAIL("ParamStore: no tensor named '", name, "'");
}

Tensor ParamStore::at(const Tensor& flat, const ParamView& v) const {
  DG_CHECK(allocated(), "ParamStore: '", v.name, "' used before allocate()");
  return flat.slice(v.offset, v.shape);
}

Tensor ParamStore::param(const std::string& name) const {
  const ParamView& v = view(name);
  DG_CHECK(v.trainable(), "ParamStore: '", name, "' is a buffer, not a parameter");
  return at(params_, v);
}

Tensor ParamStore::grad(const std::string& name) const {
  const ParamView& v = view(name);
  DG_CHECK(v.trainable(), "ParamStore: '", name, "' is a buffer and has no gradient");
  DG_CHECK(grads_.data != nullptr, "ParamStore: '", name, "' has no gradient: the store was allocated for inference");
  return at(grads_, v);
}

Tensor ParamStore::buffer(const std::string& name) const {
  const ParamView& v = view(name);
  DG_CHECK(!v.trainable(), "ParamStore: '", name, "' is a parameter, not a buffer");
  return at(buffers_, v);
}

void init_parameters(Context& ctx, ParamStore& store, uint64_t seed, uint64_t stream_base) {
  const std::vector<ParamView>& views = store.views();
  for (size_t i = 0; i < views.size(); i++) {
    const ParamView& v = views[i];
    Tensor t = v.trainable() ? store.param(v.name) : store.buffer(v.name);
    const uint64_t stream = stream_base + i;
    switch (v.kind) {
      case ParamKind::conv_weight:
      case ParamKind::linear_weight: fill_normal(ctx, t, 0.0f, 0.02f, seed, stream); break;
      case ParamKind::bn_weight: fill_normal(ctx, t, 1.0f, 0.02f, seed, stream); break;
      case ParamKind::bn_bias:
      case ParamKind::linear_bias:
      case ParamKind::running_mean: ctx.fill(t, 0.0f); break;
      case ParamKind::running_var: ctx.fill(t, 1.0f); break;
    }
  }
}

}  // namespace dg
