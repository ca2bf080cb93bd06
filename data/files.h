// Small file-system helpers shared by the readers. Each fails with a DataError naming the
// path, so no reader has to remember to check a short read or a missing file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dg::data {

// Size in bytes of a regular file; DataError if it is missing or not a regular file.
uint64_t regular_file_size(const std::string& path);

// The whole file. Allocates exactly its size, and fails on any short read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Paths of the regular files directly inside `dir` (not recursive), sorted by name.
std::vector<std::string> list_files(const std::string& dir);

// The last path component: "a/b/train.bin" -> "train.bin".
std::string file_name_of(const std::string& path);

// Case-insensitive "does name end with suffix" (suffix given in lower case).
bool ends_with_lower(const std::string& name, const std::string& lower_suffix);

// a * b, or false when the product does not fit in 64 bits.
inline bool multiply_fits(uint64_t a, uint64_t b, uint64_t* product) {
  return !__builtin_mul_overflow(a, b, product);
}

}  // namespace dg::data
