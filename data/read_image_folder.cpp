#include "data/read_image_folder.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "data/data_error.h"
#include "data/files.h"
#include "data/resize.h"

namespace fs = std::filesystem;

namespace dg::data {
namespace {

constexpr int kMaxSize = 4096;
// A decoded image may not exceed this many pixels (8192 x 8192): a tiny, highly
// compressed file could otherwise ask stb_image for gigabytes.
constexpr uint64_t kMaxPixels = uint64_t(1) << 26;

std::vector<std::string> find_images(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) data_fail(dir, "not a folder");
  fs::recursive_directory_iterator it(dir, ec);
  if (ec) data_fail(dir, "cannot list folder: ", ec.message());
  std::vector<std::string> paths;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) data_fail(dir, "cannot list folder: ", ec.message());
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && is_image_file_name(it->path().filename().string())) {
      paths.push_back(it->path().string());
    }
  }
  if (ec) data_fail(dir, "cannot list folder: ", ec.message());
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The most decoded bytes a file of `file_bytes` can honestly describe: compressed formats
// expand at most about 1000x (deflate's limit is 1032:1; JPEG and RLE BMP stay below 2048:1),
// plus room for the small images whose headers outweigh their pixels.
uint64_t max_decoded_bytes(size_t file_bytes) { return 2048 * uint64_t(file_bytes) + (uint64_t(1) << 20); }

// stb_image grows its buffer for a PNG's compressed data by each chunk's declared length
// before reading it: a chunk must not claim more bytes than the file still holds.
void check_png_chunks(const std::string& path, const std::vector<uint8_t>& b) {
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (b.size() < 8 || !std::equal(signature, signature + 8, b.begin())) return;
  size_t at = 8;
  while (at + 12 <= b.size()) {
    const uint32_t length = uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | b[at + 3];
    const std::string type(reinterpret_cast<const char*>(&b[at + 4]), 4);
    if (length > b.size() - at - 12)
      data_fail(path, "PNG chunk '", type, "' at byte ", at, " claims ", length, " bytes, but only ", b.size() - at - 12,
                " follow (corrupt or truncated file)");
    if (type == "IEND") return;
    at += 12 + size_t(length);
  }
}

// Decodes one file into dst: (3, size, size) uint8.
void decode_one(const std::string& path, int size, uint8_t* dst) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  if (bytes.size() > size_t(INT_MAX)) data_fail(path, "file too large for stb_image");
  const int len = int(bytes.size());
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &comp)) {
    data_fail(path, "cannot decode image: ", stbi_failure_reason());
  }
  // stb_image accepts a BMP of height 0 (found by fuzzing); there is nothing to crop or resize.
  if (w <= 0 || h <= 0) data_fail(path, "image of ", w, "x", h, " has no pixels");
  if (uint64_t(w) * uint64_t(h) > kMaxPixels) {
    data_fail(path, "image of ", w, "x", h, " is too large (more than ", kMaxPixels, " pixels)");
  }
  if (uint64_t(w) * uint64_t(h) * 4 > max_decoded_bytes(bytes.size())) {
    data_fail(path, "a ", bytes.size(), "-byte file cannot hold a ", w, "x", h,
              " image (corrupt header or a decompression bomb)");
  }
  check_png_chunks(path, bytes);
  std::unique_ptr<uint8_t, void (*)(void*)> rgb(stbi_load_from_memory(bytes.data(), len, &w, &h, &comp, 3),
                                                stbi_image_free);
  if (!rgb) data_fail(path, "cannot decode image: ", stbi_failure_reason());
  if (w <= 0 || h <= 0) data_fail(path, "image of ", w, "x", h, " has no pixels");

  const int side = std::min(w, h);  // center crop to a square
  const uint8_t* window = rgb.get() + (size_t((h - side) / 2) * w + size_t((w - side) / 2)) * 3;
  std::vector<float> plane(size_t(size) * size);
  for (int c = 0; c < 3; c++) {
    resize_bilinear_plane(window + c, side, side, ptrdiff_t(w) * 3, 3, size, size, plane.data());
    uint8_t* out = dst + size_t(c) * plane.size();
    for (size_t i = 0; i < plane.size(); i++) out[i] = uint8_t(plane[i] + 0.5f);  // plane is in [0, 255]
  }
}

// Decodes all files on all cores. Workers take indices in increasing order and stop
// taking new ones after a failure, so every file before a failing one is still decoded
// and the reported failure is always the first in path order.
void decode_all(const std::vector<std::string>& paths, int size, ImageSet& set) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  size_t error_index = paths.size();
  std::exception_ptr error;
  auto work = [&] {
    while (!failed.load()) {
      size_t i = next.fetch_add(1);
      if (i >= paths.size()) break;
      try {
        decode_one(paths[i], size, set.pixels.data() + i * set.bytes_per_image());
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          error = std::current_exception();
        }
        failed = true;
      }
    }
  };
  size_t n_threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 16);
  n_threads = std::min(n_threads, paths.size());
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n_threads; t++) {
    try {
      threads.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones we have (and this one) do the work
    }
  }
  work();
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

bool is_image_file_name(const std::string& name) {
  for (const char* ext : {".png", ".jpg", ".jpeg", ".bmp"}) {
    if (ends_with_lower(name, ext)) return true;
  }
  return false;
}

ImageSet read_image_folder(const std::string& dir, int size) {
  if (size < 1 || size > kMaxSize) data_fail(dir, "image size ", size, " must be 1..", kMaxSize);
  std::vector<std::string> paths = find_images(dir);
  if (paths.empty()) data_fail(dir, "no PNG/JPEG/BMP images in this folder or below it");
  if (paths.size() > size_t(INT_MAX)) data_fail(dir, "too many images: ", paths.size());
  ImageSet set;
  set.count = int(paths.size());
  set.channels = 3;
  set.height = set.width = size;
  set.source = dir;
  set.pixels.resize(paths.size() * set.bytes_per_image());
  decode_all(paths, size, set);
  return set;
}

}  // namespace dg::data
