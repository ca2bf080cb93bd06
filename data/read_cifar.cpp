#include "data/read_cifar.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "data/data_error.h"
#include "data/files.h"

namespace dg::data {
namespace {

constexpr int kSide = 32, kChannels = 3;
constexpr size_t kImageBytes = kSide * kSide * kChannels;  // 3072

// What differs between the two data sets: the label bytes in front of each image.
struct CifarKind {
  const char* name;
  size_t label_bytes;      // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  int label_limits[2];     // exclusive upper bound of each label byte
};
constexpr CifarKind kCifar10{"CIFAR-10", 1, {10, 0}};
constexpr CifarKind kCifar100{"CIFAR-100", 2, {20, 100}};

// Number of records in one file, from its size alone: validated before anything is read,
// so nothing is allocated beyond what the files hold.
uint64_t count_records(const std::string& path, const CifarKind& kind) {
  const size_t record = kind.label_bytes + kImageBytes;
  uint64_t size = regular_file_size(path);
  if (size == 0) data_fail(path, "empty file, expected ", kind.name, " records of ", record, " bytes");
  if (size % record != 0) {
    data_fail(path, "size ", size, " is not a multiple of the ", record, "-byte ", kind.name, " record");
  }
  return size / record;
}

// Appends the records of one file to `set`, checking every label byte's range (a file of
// the other CIFAR, or not CIFAR at all, is caught here if its size happened to fit).
void append_records(const std::string& path, const CifarKind& kind, ImageSet& set) {
  const size_t record = kind.label_bytes + kImageBytes;
  std::vector<uint8_t> bytes = read_file_bytes(path);
  size_t records = bytes.size() / record;  // exact: count_records checked the size
  for (size_t r = 0; r < records; r++) {
    const uint8_t* rec = bytes.data() + r * record;
    for (size_t b = 0; b < kind.label_bytes; b++) {
      if (rec[b] >= kind.label_limits[b]) {
        data_fail(path, "label ", int(rec[b]), " out of range 0..", kind.label_limits[b] - 1,
                  " in record ", r, " (is this really ", kind.name, "?)");
      }
    }
    set.labels.push_back(rec[kind.label_bytes - 1]);  // CIFAR-100: the fine label
    set.pixels.insert(set.pixels.end(), rec + kind.label_bytes, rec + record);
  }
  set.count += static_cast<int>(records);
}

ImageSet read_cifar(const std::vector<std::string>& files, const CifarKind& kind, const std::string& source) {
  uint64_t total = 0;
  for (const std::string& f : files) total += count_records(f, kind);
  if (total > uint64_t(INT32_MAX)) data_fail(source, "too many records: ", total);
  ImageSet set;
  set.channels = kChannels;
  set.height = set.width = kSide;
  set.source = source;
  set.pixels.reserve(total * kImageBytes);
  set.labels.reserve(total);
  for (const std::string& f : files) append_records(f, kind, set);
  return set;
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

}  // namespace

bool is_cifar10_batch_name(const std::string& file_name) {
  return file_name.rfind("data_batch_", 0) == 0 && ends_with_lower(file_name, ".bin");
}

ImageSet read_cifar10(const std::string& path) {
  if (!is_directory(path)) return read_cifar({path}, kCifar10, path);
  std::vector<std::string> batches;
  for (const std::string& f : list_files(path)) {  // sorted: data_batch_1 .. data_batch_5
    if (is_cifar10_batch_name(file_name_of(f))) batches.push_back(f);
  }
  if (batches.empty()) data_fail(path, "no data_batch_*.bin files in this folder (CIFAR-10 binary version)");
  return read_cifar(batches, kCifar10, path);
}

ImageSet read_cifar100(const std::string& path) {
  if (!is_directory(path)) return read_cifar({path}, kCifar100, path);
  std::filesystem::path train = std::filesystem::path(path) / "train.bin";
  std::error_code ec;
  if (!std::filesystem::exists(train, ec)) data_fail(path, "no train.bin in this folder (CIFAR-100 binary version)");
  return read_cifar({train.string()}, kCifar100, path);
}

}  // namespace dg::data
