#include "data/files.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "data/data_error.h"

namespace fs = std::filesystem;

namespace dg::data {

uint64_t regular_file_size(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) data_fail(path, "no such file");
  if (!fs::is_regular_file(st)) data_fail(path, "not a regular file");
  uint64_t size = fs::file_size(path, ec);
  if (ec) data_fail(path, "cannot read its size: ", ec.message());
  return size;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  uint64_t size = regular_file_size(path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) data_fail(path, "cannot open for reading");
  std::vector<uint8_t> bytes(size);
  size_t got = size ? std::fread(bytes.data(), 1, size, f) : 0;
  // One more read must hit end-of-file: a file that grew while we read is as suspect as
  // one that shrank.
  bool at_end = std::fgetc(f) == EOF;
  std::fclose(f);
  if (got != size) data_fail(path, "short read: got ", got, " of ", size, " bytes");
  if (!at_end) data_fail(path, "file grew while being read (expected ", size, " bytes)");
  return bytes;
}

std::vector<std::string> list_files(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) data_fail(dir, "cannot list folder: ", ec.message());
  std::vector<std::string> paths;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) data_fail(dir, "cannot list folder: ", ec.message());
    std::error_code type_ec;
    if (it->is_regular_file(type_ec)) paths.push_back(it->path().string());
  }
  if (ec) data_fail(dir, "cannot list folder: ", ec.message());
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string file_name_of(const std::string& path) {
  return fs::path(path).filename().string();
}

bool ends_with_lower(const std::string& name, const std::string& lower_suffix) {
  if (name.size() < lower_suffix.size()) return false;
  size_t start = name.size() - lower_suffix.size();
  for (size_t i = 0; i < lower_suffix.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(name[start + i])) != lower_suffix[i]) return false;
  }
  return true;
}

}  // namespace dg::data
