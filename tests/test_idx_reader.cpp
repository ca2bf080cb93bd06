// The IDX reader (data/read_idx.h): images and labels from small files written here, raw and
// gzipped, checked pixel by pixel; corrupt ones required to fail with the file's name and what
// is wrong.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "reader_tests.h"  // check_fails; dataset_files.h: TempDir and writers of small IDX files

#include "data/read_idx.h"

using namespace dg::data;
using namespace dg::test;

TEST_CASE("IDX images and labels, raw and gzip") {
  TempDir dir;
  const Bytes pixels = pattern_bytes(3 * 2 * 4), labels = {7, 0, 9};
  Bytes images_file = idx_file(0x803, {3, 2, 4}, pixels), labels_file = idx_file(0x801, {3}, labels);
  write_file(dir / "raw/train-images-idx3-ubyte", images_file);
  write_file(dir / "raw/train-labels-idx1-ubyte", labels_file);
  write_gz(dir / "train-images-idx3-ubyte.gz", images_file);
  write_gz(dir / "train-labels-idx1-ubyte.gz", labels_file);

  const std::pair<std::string, std::string> files[] = {
      {dir / "raw/train-images-idx3-ubyte", dir / "raw/train-labels-idx1-ubyte"},
      {dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz"}};
  for (const auto& [images, labels_path] : files) {
    CAPTURE(images);
    CHECK(idx_labels_path_for(images) == labels_path);
    ImageSet set = read_idx(images, labels_path);
    CHECK(set.count == 3);
    CHECK(set.channels == 1);
    CHECK(set.height == 2);
    CHECK(set.width == 4);
    CHECK(set.pixels == pixels);
    CHECK(set.labels == std::vector<int32_t>{7, 0, 9});
    CHECK(set.source == images);
    CHECK(read_idx(images).labels.empty());
  }
  CHECK(idx_labels_path_for(dir / "lonely-images-idx3-ubyte") == "");
}

TEST_CASE("corrupt IDX files fail with the file and the defect") {
  TempDir dir;
  const Bytes body = pattern_bytes(3 * 2 * 4);
  auto check_both = [&](const std::string& name, const Bytes& file, std::initializer_list<std::string> words) {
    write_file(dir / name, file);
    write_gz(dir / (name + ".gz"), file);
    check_fails([&] { read_idx(dir / name); }, words);
    check_fails([&] { read_idx(dir / (name + ".gz")); }, words);
  };
  check_both("labels-as-images", idx_file(0x801, {3}, {1, 2, 3}),
             {"labels-as-images", "bad magic 0x00000801, expected 0x00000803 (IDX uint8 3-d images)"});
  check_both("short-header", Bytes{0, 0, 8, 3, 0, 0}, {"short-header", "truncated header: 6 of 16 bytes"});
  check_both("cut-body", idx_file(0x803, {3, 2, 4}, Bytes(body.begin(), body.end() - 5)), {"cut-body", "truncated", "24"});
  check_both("long-body", idx_file(0x803, {3, 2, 4}, pattern_bytes(25)), {"long-body", "trailing bytes"});
  check_both("zero-rows", idx_file(0x803, {3, 0, 4}, {}), {"zero-rows", "dimension 1"});
  // A count no file of this size could hold must fail before anything that large is
  // allocated (ASan would abort on a 2-petabyte allocation).
  check_both("huge-count", idx_file(0x803, {0x7fffffff, 1000, 1000}, body), {"huge-count", "truncated", "2147483647000000"});
  check_both("overflow", idx_file(0x803, {0x7fffffff, 0x7fffffff, 0x7fffffff}, body), {"overflow", "overflow"});

  // Labels that do not match the images.
  write_file(dir / "ok-images-idx3-ubyte", idx_file(0x803, {3, 2, 4}, body));
  write_file(dir / "few-labels", idx_file(0x801, {2}, {1, 2}));
  check_fails([&] { read_idx(dir / "ok-images-idx3-ubyte", dir / "few-labels"); }, {"few-labels", "2 labels", "3 images"});
  write_file(dir / "image-labels", idx_file(0x803, {3, 2, 4}, body));
  check_fails([&] { read_idx(dir / "ok-images-idx3-ubyte", dir / "image-labels"); }, {"image-labels", "bad magic 0x00000803"});

  // A gzip stream cut in the middle, and one whose compressed bytes are damaged.
  write_gz(dir / "whole.gz", idx_file(0x803, {200, 28, 28}, pattern_bytes(200 * 28 * 28)));
  Bytes gz(fs::file_size(dir / "whole.gz"));
  std::FILE* f = std::fopen((dir / "whole.gz").c_str(), "rb");
  REQUIRE(std::fread(gz.data(), 1, gz.size(), f) == gz.size());
  std::fclose(f);
  write_file(dir / "cut.gz", Bytes(gz.begin(), gz.begin() + gz.size() / 2));
  check_fails([&] { read_idx(dir / "cut.gz"); }, {"cut.gz", "gzip"});
  Bytes damaged = gz;
  for (size_t i = 40; i < 80; i++) damaged[i] ^= 0x5a;
  write_file(dir / "damaged.gz", damaged);
  check_fails([&] { read_idx(dir / "damaged.gz"); }, {"damaged.gz", "gzip"});
  check_fails([&] { read_idx(dir / "missing-idx3-ubyte"); }, {"missing-idx3-ubyte", "no such file"});
}
