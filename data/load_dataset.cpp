#include "data/load_dataset.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "data/data_error.h"
#include "data/files.h"
#include "data/read_cifar.h"
#include "data/read_idx.h"
#include "data/read_image_folder.h"
#include "data/read_svhn_mat.h"

namespace fs = std::filesystem;

namespace dg::data {
namespace {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
constexpr const char* kMnistDir = "/usr/share/datasets/mnist";

struct FormatName {
  Format format;
  const char* name;
};
constexpr FormatName kFormats[] = {
    {Format::automatic, "auto"}, {Format::idx, "idx"},   {Format::cifar10, "cifar10"},
    {Format::cifar100, "cifar100"}, {Format::svhn, "svhn"}, {Format::folder, "folder"},
};

bool is_dir(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// Of several candidate files, the one whose name starts with `preferred`, else the only one.
std::string pick_one(const std::string& dir, const std::vector<std::string>& files, const char* preferred,
                     const char* what) {
  if (files.empty()) data_fail(dir, "no ", what, " in this folder");
  for (const std::string& f : files) {
    if (file_name_of(f).rfind(preferred, 0) == 0) return f;
  }
  if (files.size() == 1) return files[0];
  data_fail(dir, files.size(), " ", what, " here and none named ", preferred, "*; pass one file");
}

std::vector<std::string> files_where(const std::string& dir, bool (*keep)(const std::string&)) {
  std::vector<std::string> out;
  for (const std::string& f : list_files(dir)) {
    if (keep(file_name_of(f))) out.push_back(f);
  }
  return out;
}

bool is_mat_name(const std::string& n) { return ends_with_lower(n, ".mat"); }
bool is_cifar100_name(const std::string& n) { return n == "train.bin" || n == "test.bin"; }
bool is_cifar10_name(const std::string& n) { return is_cifar10_batch_name(n) || n == "test_batch.bin"; }

ImageSet load_idx(const std::string& path) {
  std::string images = path;
  if (is_dir(path)) images = pick_one(path, files_where(path, is_idx_images_name), "train", "IDX image files (*idx3-ubyte[.gz])");
  return read_idx(images, idx_labels_path_for(images));
}

ImageSet load_svhn(const std::string& path) {
  if (!is_dir(path)) return read_svhn_mat(path);
  return read_svhn_mat(pick_one(path, files_where(path, is_mat_name), "train_32x32", "MAT-files (*.mat)"));
}

Format detect_folder(const std::string& dir) {
  std::vector<std::string> names;
  for (const std::string& f : list_files(dir)) names.push_back(file_name_of(f));
  auto any = [&](bool (*test)(const std::string&)) {
    for (const std::string& n : names) {
      if (test(n)) return true;
    }
    return false;
  };
  if (any(is_idx_images_name)) return Format::idx;
  if (any(is_cifar10_batch_name)) return Format::cifar10;
  if (any([](const std::string& n) { return n == "train.bin"; })) return Format::cifar100;
  if (any(is_mat_name)) return Format::svhn;
  return Format::folder;
}

Format detect_file(const std::string& path) {
  std::string name = file_name_of(path);
  if (is_idx_images_name(name)) return Format::idx;
  if (is_cifar10_name(name)) return Format::cifar10;
  if (is_cifar100_name(name)) return Format::cifar100;
  if (is_mat_name(name)) return Format::svhn;
  uint8_t head[19] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) data_fail(path, "cannot open for reading");
  size_t got = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  const uint8_t idx_magic[4] = {0, 0, 8, 3}, gzip_magic[2] = {0x1f, 0x8b};
  if (got >= 4 && std::memcmp(head, idx_magic, 4) == 0) return Format::idx;
  if (got >= 2 && std::memcmp(head, gzip_magic, 2) == 0) return Format::idx;  // IDX is our only gzip format
  if (got >= 19 && std::memcmp(head, "MATLAB 5.0 MAT-file", 19) == 0) return Format::svhn;
  data_fail(path, "cannot tell the data format from its name or first bytes; name the format (",
            "idx, cifar10, cifar100, svhn, folder)");
}

std::string resolve_name(const std::string& path_or_name) {
  if (path_or_name == "fashion-mnist") {
    std::string images = std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz";
    std::error_code ec;
    if (!fs::exists(images, ec)) data_fail(path_or_name, images, " is missing; install it with `apt-get install dataset-fashion-mnist`");
    return images;
  }
  if (path_or_name == "mnist") {
    if (!is_dir(kMnistDir)) {
      data_fail(path_or_name, kMnistDir, " does not exist, and no Debian package provides MNIST (only ",
                "dataset-fashion-mnist, for Fashion-MNIST); put the four MNIST IDX files in a folder ",
                "and pass that folder");
    }
    return kMnistDir;
  }
  return path_or_name;
}

}  // namespace

Format parse_format(const std::string& name) {
  for (const FormatName& f : kFormats) {
    if (name == f.name) return f.format;
  }
  data_fail("format '" + name + "'", "unknown; expected one of auto, idx, cifar10, cifar100, svhn, folder");
}

const char* format_name(Format format) {
  for (const FormatName& f : kFormats) {
    if (f.format == format) return f.name;
  }
  return "?";
}

ImageSet load_dataset(const std::string& path_or_name, Format format, int folder_size) {
  const std::string path = resolve_name(path_or_name);
  std::error_code ec;
  if (!fs::exists(path, ec)) data_fail(path, "no such file or folder");
  if (format == Format::automatic) format = is_dir(path) ? detect_folder(path) : detect_file(path);
  switch (format) {
    case Format::idx: return load_idx(path);
    case Format::cifar10: return read_cifar10(path);
    case Format::cifar100: return read_cifar100(path);
    case Format::svhn: return load_svhn(path);
    case Format::folder: return read_image_folder(path, folder_size);
    case Format::automatic: break;
  }
  data_fail(path, "no reader for format ", format_name(format));
}

}  // namespace dg::data
