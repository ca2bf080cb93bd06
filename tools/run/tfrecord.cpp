#include "tools/run/tfrecord.h"

#include <array>
#include <fstream>
#include <iterator>

#include "engine/error.h"

namespace dg {

namespace {

// Byte-at-a-time table of the reflected Castagnoli polynomial.
std::array<uint32_t, 256> crc32c_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    t[i] = c;
  }
  return t;
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) out += char((v >> (8 * i)) & 0xff);
}

uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

}  // namespace

uint32_t crc32c(const void* data, size_t n) {
  static const std::array<uint32_t, 256> table = crc32c_table();
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

uint32_t masked_crc32c(const void* data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string tfrecord(const std::string& data) {
  std::string out;
  put_le(out, data.size(), 8);
  put_le(out, masked_crc32c(out.data(), 8), 4);
  out += data;
  put_le(out, masked_crc32c(data.data(), data.size()), 4);
  return out;
}

TfRecords read_tfrecords(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  DG_CHECK(f.good(), "cannot read ", path);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  TfRecords out;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 16 || get_le(p + at + 8, 4) != masked_crc32c(p + at, 8)) {
      out.torn = true;
      break;
    }
    const uint64_t n = get_le(p + at, 8);
    if (n > bytes.size() - at - 16 || get_le(p + at + 12 + n, 4) != masked_crc32c(p + at + 12, n)) {
      out.torn = true;
      break;
    }
    out.records.push_back(bytes.substr(at + 12, n));
    at += 16 + n;
  }
  return out;
}

}  // namespace dg
