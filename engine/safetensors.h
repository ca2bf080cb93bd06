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
//
// Checksums: every file dg writes carries one more metadata string, "dg_checksums":
//   {"algorithm": "xxh3-64", "header": "<16 hex digits>", "tensors": {"<name>": "<16 hex>", ...}}
// (xxHash's XXH3 64-bit hash, Debian's libxxhash-dev). "tensors": each tensor's data bytes as
// stored. "header": the header JSON without this entry, as nlohmann dumps it (compact, keys
// sorted): dtypes, shapes, offsets and every other metadata string, so a flipped digit of a
// checkpoint's step is caught too. A reader checks both when the entry is there and fails
// naming the file and the tensor (or the header); safetensors and PyTorch readers see one
// more metadata string and load the file unchanged. Files without it (older dg files,
// PyTorch's) load unverified: SafeTensors::checksummed says which it was.
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
  std::map<std::string, std::string> metadata;  // without "dg_checksums" (written and checked here)
  bool checksummed = false;                      // read: the file carried checksums, and every one matched

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
