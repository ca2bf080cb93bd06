// Moving a ParamStore's tensors in and out of safetensors maps, by name.
#pragma once
#include <string>

#include "engine/param_store.h"
#include "engine/safetensors.h"

namespace dg {

// Which flat buffer of the store: parameters + running statistics (what PyTorch's
// state_dict holds), or one of the Adam moments.
enum class StorePart { state, exp_avg, exp_avg_sq };

// Adds `prefix + name` for every tensor of the part (downloads from the device).
void save_store(Context& ctx, const ParamStore& store, StorePart part, const std::string& prefix, SafeTensors& out);
// Fills every tensor of the part from `prefix + name`; a missing tensor, a shape that
// differs or a non-finite value is an error naming the tensor (tensors before it may have
// been filled already).
void load_store(Context& ctx, ParamStore& store, StorePart part, const std::string& prefix, const SafeTensors& in);

}  // namespace dg
