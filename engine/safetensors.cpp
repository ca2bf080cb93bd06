#include "engine/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/error.h"

// xxHash used header-only: nothing to link, and an offline GPU machine needs only the header
// (tools/gpu-stage.sh).
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dg {

static const char* const kChecksumKey = "dg_checksums";

static std::string xxh3_hex(const void* data, size_t bytes) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(XXH3_64bits(data, bytes)));
  return buf;
}

// The header as its checksum covers it: without the checksums entry (and without an
// __metadata__ left empty by its removal), dumped compact with sorted keys.
static std::string header_for_checksum(nlohmann::json header) {
  if (header.contains("__metadata__") && header["__metadata__"].is_object()) {
    header["__metadata__"].erase(kChecksumKey);
    if (header["__metadata__"].empty()) header.erase("__metadata__");
  }
  return header.dump();
}

// The parsed "dg_checksums" entry of a file that has one.
struct Checksums {
  std::string header;
  std::map<std::string, std::string> tensors;
};

static Checksums parse_checksums(const nlohmann::json& header, const std::string& what) {
  const nlohmann::json& entry = header["__metadata__"][kChecksumKey];
  DG_CHECK(entry.is_string(), what, ": metadata '", kChecksumKey, "' is not a string");
  const nlohmann::json j = nlohmann::json::parse(entry.get<std::string>(), nullptr, false);
  const bool ok = j.is_object() && j.contains("algorithm") && j["algorithm"] == "xxh3-64" && j.contains("header") &&
                  j["header"].is_string() && j.contains("tensors") && j["tensors"].is_object();
  DG_CHECK(ok, what, ": the checksums entry (metadata '", kChecksumKey,
           "') is damaged or of an unknown kind: the file is damaged");
  Checksums c;
  c.header = j["header"].get<std::string>();
  for (const auto& [name, sum] : j["tensors"].items()) {
    DG_CHECK(sum.is_string(), what, ": the checksum of tensor '", name, "' is not a string: the file is damaged");
    c.tensors[name] = sum.get<std::string>();
  }
  return c;
}

const StTensor& SafeTensors::at(const std::string& name) const {
  auto it = tensors.find(name);
  DG_CHECK(it != tensors.end(), "safetensors: no tensor named '", name, "'");
  return it->second;
}

const std::string& SafeTensors::meta(const std::string& key) const {
  auto it = metadata.find(key);
  DG_CHECK(it != metadata.end(), "safetensors: no metadata key '", key, "'");
  return it->second;
}

static uint64_t read_le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

SafeTensors parse_safetensors(const std::string& bytes, const std::string& what) {
  DG_CHECK(bytes.size() >= 8, what, ": ", bytes.size(), " bytes is too short for a safetensors file (8-byte header length)");
  const uint64_t header_len = read_le64(reinterpret_cast<const unsigned char*>(bytes.data()));
  DG_CHECK(header_len <= bytes.size() - 8, what, ": header length ", header_len, " exceeds the file's ",
           bytes.size() - 8, " remaining bytes (truncated or not a safetensors file)");
  const size_t data_begin = 8 + header_len, data_size = bytes.size() - data_begin;
  // (The JSON parser stops at a NUL: one in the padding would pass unseen.)
  DG_CHECK(std::find(bytes.begin() + 8, bytes.begin() + long(data_begin), '\0') == bytes.begin() + long(data_begin),
           what, ": the header holds a NUL byte: the file is damaged");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + long(data_begin));
  } catch (const nlohmann::json::exception& e) {
    DG_FAIL(what, ": the header is not valid JSON: ", e.what());
  }
  DG_CHECK(header.is_object(), what, ": the header is not a JSON object");
  SafeTensors st;
  // The checksums first: a damaged header is reported as damaged, whatever it now says.
  Checksums sums;
  if (header.contains("__metadata__") && header["__metadata__"].is_object() &&
      header["__metadata__"].contains(kChecksumKey)) {
    sums = parse_checksums(header, what);
    const std::string canonical = header_for_checksum(header);
    DG_CHECK(xxh3_hex(canonical.data(), canonical.size()) == sums.header, what,
             ": the header fails its checksum (a shape, offset, name or metadata value changed): the file is damaged");
    st.checksummed = true;
  } else if (header.contains("__metadata__") && header["__metadata__"].is_object()) {
    // Checksums whose key is damaged must not make the file read as one without them.
    for (const auto& [k, v] : header["__metadata__"].items())
      DG_CHECK(!(v.is_string() && v.get<std::string>().rfind("{\"algorithm\":\"xxh3-64\"", 0) == 0), what,
               ": checksums under the metadata key '", k, "' instead of '", kChecksumKey, "': the file is damaged");
  }
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      DG_CHECK(entry.is_object(), what, ": __metadata__ is not an object");
      for (auto& [k, v] : entry.items()) {
        DG_CHECK(v.is_string(), what, ": metadata '", k, "' is not a string");
        if (k != kChecksumKey) st.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    DG_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") && entry.contains("data_offsets"),
             what, ": tensor '", name, "' lacks dtype, shape or data_offsets");
    const auto& dtype = entry["dtype"];
    const auto& shape = entry["shape"];
    const auto& offs = entry["data_offsets"];
    DG_CHECK(dtype.is_string() && shape.is_array() && offs.is_array() && offs.size() == 2 && offs[0].is_number_unsigned() &&
                 offs[1].is_number_unsigned(),
             what, ": tensor '", name, "' has a malformed entry");
    const std::string dt = dtype.get<std::string>();
    DG_CHECK(dt == "F32" || dt == "F64" || dt == "I64", what, ": tensor '", name, "' has dtype ", dt,
             " (dg reads F32, F64, and I64 scalars)");
    StTensor t;
    uint64_t count = 1;
    for (const auto& d : shape) {
      DG_CHECK(d.is_number_unsigned() && d.get<uint64_t>() <= (uint64_t(1) << 40), what, ": tensor '", name,
               "' has a bad dimension ", d.dump());
      t.shape.push_back(d.get<int64_t>());
      const uint64_t dim = d.get<uint64_t>();
      // Checked before multiplying: the product of two 2^40 dims would wrap to 0.
      DG_CHECK(dim == 0 || count <= (uint64_t(1) << 40) / dim, what, ": tensor '", name, "' is impossibly large");
      count *= dim;
    }
    const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    const uint64_t elem = dt == "F32" ? 4 : 8;
    DG_CHECK(begin <= end && end <= data_size, what, ": tensor '", name, "' data [", begin, ", ", end,
             ") lies outside the ", data_size, " data bytes (truncated file?)");
    DG_CHECK(end - begin == count * elem, what, ": tensor '", name, "' has ", end - begin, " bytes for ", count,
             " elements of ", dt);
    ranges.push_back({begin, end});
    const char* src = bytes.data() + data_begin + begin;
    if (st.checksummed) {
      auto sum = sums.tensors.find(name);
      DG_CHECK(sum != sums.tensors.end(), what, ": tensor '", name, "' has no checksum: the file is damaged");
      const std::string computed = xxh3_hex(src, end - begin);
      DG_CHECK(computed == sum->second, what, ": tensor '", name, "' fails its checksum (stored ", sum->second,
               ", computed ", computed, "): the file is damaged");
      sums.tensors.erase(sum);
    }
    // little-endian hosts only (x86-64, aarch64)
    if (dt == "F32") {
      t.data.resize(count);
      std::memcpy(t.data.data(), src, count * 4);
    } else if (dt == "F64") {
      t.f64 = true;
      t.data64.resize(count);
      std::memcpy(t.data64.data(), src, count * 8);
    } else {
      t.data.resize(count);
      for (uint64_t i = 0; i < count; i++) {
        int64_t v;
        std::memcpy(&v, src + 8 * i, 8);
        t.data[i] = float(v);
      }
    }
    st.tensors[name] = std::move(t);
  }
  DG_CHECK(sums.tensors.empty(), what, ": the checksums name tensor '",
           sums.tensors.empty() ? "" : sums.tensors.begin()->first, "', which the file lacks: the file is damaged");
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); i++)
    DG_CHECK(ranges[i].first >= ranges[i - 1].second, what, ": tensor data ranges overlap");
  return st;
}

SafeTensors read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DG_CHECK(in.good(), path, ": cannot open (", std::strerror(errno), ")");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  DG_CHECK(!in.bad(), path, ": read error");
  return parse_safetensors(bytes, path);
}

static void write_all(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    DG_CHECK(w > 0, path, ": write failed (", std::strerror(errno), ")");
    p += w;
    n -= size_t(w);
  }
}

void write_safetensors(const std::string& path, const SafeTensors& st) {
  nlohmann::json header = nlohmann::json::object();
  nlohmann::json tensor_sums = nlohmann::json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : st.tensors) {
    const uint64_t bytes = t.f64 ? t.data64.size() * 8 : t.data.size() * 4;
    header[name] = {{"dtype", t.f64 ? "F64" : "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    tensor_sums[name] = t.f64 ? xxh3_hex(t.data64.data(), bytes) : xxh3_hex(t.data.data(), bytes);
    offset += bytes;
  }
  std::map<std::string, std::string> metadata = st.metadata;
  metadata.erase(kChecksumKey);  // (one read from a file is recomputed)
  if (!metadata.empty()) header["__metadata__"] = metadata;
  const std::string canonical = header_for_checksum(header);
  const nlohmann::json sums = {
      {"algorithm", "xxh3-64"}, {"header", xxh3_hex(canonical.data(), canonical.size())}, {"tensors", tensor_sums}};
  header["__metadata__"][kChecksumKey] = sums.dump();
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // 8-byte aligned data
  unsigned char len[8];
  for (int i = 0; i < 8; i++) len[i] = static_cast<unsigned char>((uint64_t(h.size()) >> (8 * i)) & 0xff);

  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  DG_CHECK(fd >= 0, tmp, ": cannot create (", std::strerror(errno), ")");
  try {
    write_all(fd, len, 8, tmp);
    write_all(fd, h.data(), h.size(), tmp);
    for (const auto& [name, t] : st.tensors) {
      if (t.f64)
        write_all(fd, t.data64.data(), t.data64.size() * 8, tmp);
      else
        write_all(fd, t.data.data(), t.data.size() * 4, tmp);
    }
    DG_CHECK(::fsync(fd) == 0, tmp, ": fsync failed (", std::strerror(errno), ")");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  DG_CHECK(::close(fd) == 0, tmp, ": close failed (", std::strerror(errno), ")");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    DG_FAIL(path, ": rename from ", tmp, " failed (", std::strerror(e), ")");
  }
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace dg
