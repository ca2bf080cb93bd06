// Writers of tiny dataset files for tests (IDX, CIFAR, SVHN MAT-file v5, image folders), and a
// temporary folder. Shared by the reader tests and the dgtrain end-to-end tests.
#pragma once
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

namespace dg::test {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A fresh folder under `root` (the system temp folder by default), removed with its
// contents at scope exit.
struct TempDir {
  fs::path path;
  explicit TempDir(const fs::path& root = fs::temp_directory_path()) {
    static std::atomic<int> serial{0};
    path = fs::absolute(root) / ("dg_test_" + std::to_string(getpid()) + "_" + std::to_string(serial++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline Bytes read_bytes(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f);
  Bytes b;
  for (int c; (c = std::fgetc(f)) != EOF;) b.push_back(uint8_t(c));
  std::fclose(f);
  return b;
}

inline void write_file(const std::string& path, const Bytes& b) {
  fs::create_directories(fs::path(path).parent_path());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  if (!b.empty()) REQUIRE(std::fwrite(b.data(), 1, b.size(), f) == b.size());
  std::fclose(f);
}

inline void write_gz(const std::string& path, const Bytes& b) {
  fs::create_directories(fs::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, b.data(), unsigned(b.size())) == int(b.size()));
  gzclose(f);
}

inline uint8_t pattern(size_t i) { return uint8_t(i * 37 + 11); }  // distinct neighbours, wraps

inline Bytes pattern_bytes(size_t n) {
  Bytes b;
  b.reserve(n);
  for (size_t i = 0; i < n; i++) b.push_back(pattern(i));
  return b;
}

inline void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}
inline void put_le32(Bytes& b, uint32_t v) {
  for (int s = 0; s < 32; s += 8) b.push_back(uint8_t(v >> s));
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// IDX: big-endian magic (0x0803 images, 0x0801 labels), dims, then the bytes.
inline Bytes idx_file(uint32_t magic, std::vector<uint32_t> dims, const Bytes& body) {
  Bytes b;
  put_be32(b, magic);
  for (uint32_t d : dims) put_be32(b, d);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

// CIFAR-10 binary: per image 1 label byte, then 3072 bytes (3 planes of 32x32).
inline Bytes cifar10_file(int n) {
  Bytes b;
  for (int i = 0; i < n; i++) {
    b.push_back(uint8_t(i % 10));
    Bytes px = pattern_bytes(3072 + size_t(i));
    b.insert(b.end(), px.begin() + i, px.end());
  }
  return b;
}

// ---- MAT-file v5: the header, and miMATRIX elements, plain or compressed ----
enum : uint32_t { kMatInt8 = 1, kMatUint8 = 2, kMatInt32 = 5, kMatUint32 = 6, kMatDouble = 9, kMatMatrix = 14, kMatCompressed = 15 };

inline void put_mat_element(Bytes& out, uint32_t type, const Bytes& data, bool small_ok) {
  if (small_ok && data.size() <= 4) {  // small element: size and type share one word
    put_le32(out, uint32_t(data.size()) << 16 | type);
    out.insert(out.end(), data.begin(), data.end());
    out.resize(out.size() + 4 - data.size());
    return;
  }
  put_le32(out, type);
  put_le32(out, uint32_t(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  out.resize((out.size() + 7) / 8 * 8);
}

inline Bytes mat_header() {
  const std::string text = "MATLAB 5.0 MAT-file, Platform: dg tests";
  Bytes b(128, 0);  // 116 bytes of text, 8 of subsystem data offset (zeros), version, endian
  std::fill(b.begin(), b.begin() + 116, uint8_t(' '));
  std::copy(text.begin(), text.end(), b.begin());
  b[125] = 0x01;    // version 0x0100, little-endian
  b[126] = 'I';     // endian mark of a little-endian writer
  b[127] = 'M';
  return b;
}

inline Bytes mat_matrix(const std::string& name, int class_id, std::vector<int32_t> dims, uint32_t type, const Bytes& data) {
  Bytes body, flags, dim_bytes;
  put_le32(flags, uint32_t(class_id));
  put_le32(flags, 0);
  put_mat_element(body, kMatUint32, flags, false);
  for (int32_t d : dims) put_le32(dim_bytes, uint32_t(d));
  put_mat_element(body, kMatInt32, dim_bytes, false);
  put_mat_element(body, kMatInt8, Bytes(name.begin(), name.end()), true);
  if (type) put_mat_element(body, type, data, false);
  Bytes element;
  put_mat_element(element, kMatMatrix, body, false);
  return element;
}

inline Bytes mat_compressed(const Bytes& element) {
  uLongf size = compressBound(element.size());
  Bytes z(size);
  REQUIRE(compress2(z.data(), &size, element.data(), element.size(), 6) == Z_OK);
  z.resize(size);
  Bytes out;
  put_le32(out, kMatCompressed);
  put_le32(out, uint32_t(z.size()));
  out.insert(out.end(), z.begin(), z.end());  // compressed elements are not padded
  return out;
}

// An SVHN-like train_32x32.mat: X uint8 (32, 32, 3, n) column-major, y double (n, 1) in 1..10.
inline Bytes svhn_file(int n) {
  Bytes x = pattern_bytes(size_t(32) * 32 * 3 * n);
  Bytes y(size_t(n) * 8);
  for (int i = 0; i < n; i++) {
    double label = 1 + i % 10;
    std::memcpy(y.data() + 8 * i, &label, 8);
  }
  return cat({mat_header(), mat_matrix("X", 9, {32, 32, 3, n}, kMatUint8, x), mat_matrix("y", 6, {n, 1}, kMatDouble, y)});
}

// n PNG files of size x size RGB into `dir`.
inline void write_png_folder(const std::string& dir, int n, int size) {
  fs::create_directories(dir);
  for (int i = 0; i < n; i++) {
    Bytes px = pattern_bytes(size_t(size) * size * 3 + size_t(i));
    const std::string p = dir + "/img" + std::to_string(i) + ".png";
    REQUIRE(stbi_write_png(p.c_str(), size, size, 3, px.data() + i, size * 3) != 0);
  }
}

}  // namespace dg::test
