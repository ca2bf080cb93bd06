// Damaging safetensors files on purpose, as a disk, a copy or a crash can: a flipped bit at
// a chosen place (in the header, in one tensor's data), a rewritten header, a changed value
// with the checksums made to match again (so that only the check of the values can catch it).
#pragma once
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/safetensors.h"
#include "tests/dataset_files.h"

namespace dg::test {

inline uint64_t header_length(const Bytes& file) {
  REQUIRE(file.size() >= 8);
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);  // little-endian hosts
  return n;
}

inline nlohmann::json header_of(const Bytes& file) {
  const uint64_t n = header_length(file);
  REQUIRE(8 + n <= file.size());
  return nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + long(n));
}

// Flips bit `bit` of the byte at `offset` of the file.
inline void flip_bit(const std::string& path, size_t offset, int bit) {
  Bytes b = read_bytes(path);
  REQUIRE(offset < b.size());
  b[offset] ^= uint8_t(1u << bit);
  write_file(path, b);
}

// The offset in the file of the first byte of `text` inside the header.
inline size_t header_offset_of(const std::string& path, const std::string& text) {
  const Bytes b = read_bytes(path);
  const std::string header(b.begin() + 8, b.begin() + 8 + long(header_length(b)));
  const size_t at = header.find(text);
  REQUIRE_MESSAGE(at != std::string::npos, text, " is not in the header of ", path);
  return 8 + at;
}

// The offset in the file of the middle byte of tensor `name`'s data.
inline size_t tensor_middle(const std::string& path, const std::string& name) {
  const Bytes b = read_bytes(path);
  const nlohmann::json h = header_of(b);
  REQUIRE_MESSAGE(h.contains(name), "no tensor ", name, " in ", path);
  const uint64_t begin = h[name]["data_offsets"][0], end = h[name]["data_offsets"][1];
  REQUIRE(end > begin);
  return 8 + header_length(b) + (begin + end) / 2;
}

// The first tensor of the file whose name starts with `prefix` and ends with `suffix`.
inline std::string tensor_named(const std::string& path, const std::string& prefix, const std::string& suffix) {
  const nlohmann::json h = header_of(read_bytes(path));
  for (const auto& [name, entry] : h.items())
    if (name.rfind(prefix, 0) == 0 && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return name;
  FAIL("no tensor ", prefix, "...", suffix, " in ", path);
  return "";
}

// Replaces the header by `edit(header)`, the data unchanged (no checksum is recomputed).
template <typename Edit>
void rewrite_header(const std::string& path, Edit edit) {
  const Bytes b = read_bytes(path);
  nlohmann::json h = header_of(b);
  edit(h);
  std::string text = h.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out += text;
  out.append(b.begin() + 8 + long(header_length(b)), b.end());
  write_file(path, Bytes(out.begin(), out.end()));
}

// Sets element `at` of tensor `name` to `value` and writes the file back through dg's writer,
// so that its checksums match the changed value.
inline void set_value(const std::string& path, const std::string& name, size_t at, float value) {
  SafeTensors st = read_safetensors(path);
  REQUIRE(st.has(name));
  REQUIRE(at < st.tensors[name].data.size());
  st.tensors[name].data[at] = value;
  write_safetensors(path, st);
}

}  // namespace dg::test
