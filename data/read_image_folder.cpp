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

// Decodes one file into dst: (3, size, size) uint8.
void decode_one(const std::string& path, int size, uint8_t* dst) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  if (bytes.size() > size_t(INT_MAX)) data_fail(path, "file too large for stb_image");
  const int len = int(bytes.size());
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &comp)) {
    data_fail(path, "cannot decode image: ", stbi_failure_reason());
  }
  if (uint64_t(w) * uint64_t(h) > kMaxPixels) {
    data_fail(path, "image of ", w, "x", h, " is too large (more than ", kMaxPixels, " pixels)");
  }
  std::unique_ptr<uint8_t, void (*)(void*)> rgb(stbi_load_from_memory(bytes.data(), len, &w, &h, &comp, 3),
                                                stbi_image_free);
  if (!rgb) data_fail(path, "cannot decode image: ", stbi_failure_reason());

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
