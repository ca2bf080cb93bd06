// safetensors files: an 8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "string value", ...}}
// then the tensors' raw little-endian bytes. dg writes and reads float32 (F32) and float64
// (F64) tensors, and reads I64 scalars (PyTorch's num_batches_tracked) as F32. Checkpoints,
// golden test data, feature-network weights and FID statistics (F64) all use it.
//
// Reading validates everything before trusting it: the header length against the file
// size, the JSON, every dtype, shape and offset range (inside the data, matching the
// shape's byte size, no overlaps), and fails with the file name and what is wrong.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dg {

struct StTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;     // F32 (and I64 converted), or empty when f64
  bool f64 = false;            // stored as F64: the values are in data64
  std::vector<double> data64 = {};
};

struct SafeTensors {
  std::map<std::string, StTensor> tensors;
  std::map<std::string, std::string> metadata;

  const StTensor& at(const std::string& name) const;  // throws naming the missing tensor
  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  const std::string& meta(const std::string& key) const;
};

SafeTensors read_safetensors(const std::string& path);
SafeTensors parse_safetensors(const std::string& bytes, const std::string& what);

// Writes atomically: a temporary file next to `path`, fsync, rename over `path`, fsync of
// the directory. Either the old file or the complete new one is there afterwards.
void write_safetensors(const std::string& path, const SafeTensors& st);

}  // namespace dg
