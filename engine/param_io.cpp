#include "engine/param_io.h"

#include <cmath>

namespace dg {

static Tensor part_tensor(const ParamStore& s, const ParamView& v, StorePart part) {
  if (!v.trainable()) return s.buffer(v.name);
  DG_CHECK(part == StorePart::state || s.exp_avg().data != nullptr, "'", v.name,
           "' has no Adam moments: the store was allocated for inference");
  switch (part) {
    case StorePart::state: return s.param(v.name);
    case StorePart::exp_avg: return s.exp_avg().slice(v.offset, v.shape);
    case StorePart::exp_avg_sq: return s.exp_avg_sq().slice(v.offset, v.shape);
  }
  return {};
}

void save_store(Context& ctx, const ParamStore& store, StorePart part, const std::string& prefix, SafeTensors& out) {
  for (const ParamView& v : store.views()) {
    if (part != StorePart::state && !v.trainable()) continue;  // moments exist for parameters only
    Tensor t = part_tensor(store, v, part);
    StTensor& st = out.tensors[prefix + v.name];
    st.shape.assign(v.shape.dims.begin(), v.shape.dims.begin() + v.shape.rank);
    st.data.resize(size_t(t.numel()));
    ctx.download(t, st.data.data());
  }
}

void load_store(Context& ctx, ParamStore& store, StorePart part, const std::string& prefix, const SafeTensors& in) {
  for (const ParamView& v : store.views()) {
    if (part != StorePart::state && !v.trainable()) continue;
    const std::string name = prefix + v.name;
    const StTensor& st = in.at(name);
    Shape expect = v.shape;
    bool same = int(st.shape.size()) == expect.rank;
    for (int i = 0; same && i < expect.rank; i++) same = st.shape[i] == expect.dims[i];
    DG_CHECK(same, "tensor '", name, "' has the wrong shape for this model: expected ", expect.str());
    for (size_t i = 0; i < st.data.size(); i++) {
      const float x = st.data[i];
      DG_CHECK(std::isfinite(x), "tensor '", name, "' holds ", std::isnan(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf",
               " at element ", i, " (weights, running statistics and Adam moments must be finite)");
    }
    ctx.upload(part_tensor(store, v, part), st.data.data());
  }
}

}  // namespace dg
