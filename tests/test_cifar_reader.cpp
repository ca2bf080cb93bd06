// The CIFAR-10 and CIFAR-100 readers (data/read_cifar.h): binary files and folders written
// here, checked pixel by pixel; corrupt ones required to fail with the file's name and what is
// wrong.
#include <doctest/doctest.h>

#include <cstddef>
#include <filesystem>
#include <vector>

#include "reader_tests.h"  // check_fails, cifar_records; dataset_files.h: TempDir, pattern

#include "data/read_cifar.h"

using namespace dg::data;
using namespace dg::test;

namespace {

void check_cifar_pixels(const ImageSet& set, int first_record, int count) {
  REQUIRE(set.count == count);
  CHECK(set.channels == 3);
  CHECK(set.height == 32);
  CHECK(set.width == 32);
  REQUIRE(set.pixels.size() == size_t(count) * 3072);
  bool same = true;
  for (size_t i = 0; i < set.pixels.size(); i++) same = same && set.pixels[i] == pattern(size_t(first_record) * 3072 + i);
  CHECK(same);
}

}  // namespace

TEST_CASE("CIFAR-10 and CIFAR-100 binary files and folders") {
  TempDir dir;
  write_file(dir / "c10/data_batch_1.bin", cifar_records(2, 1, [](int r, int) { return uint8_t(r + 3); }));
  // Batch 2 continues the pixel pattern where batch 1 stopped, so order shows.
  Bytes batch2 = cifar_records(5, 1, [](int r, int) { return uint8_t(r % 10); });
  batch2.erase(batch2.begin(), batch2.begin() + 2 * 3073);
  write_file(dir / "c10/data_batch_2.bin", batch2);
  write_file(dir / "c10/test_batch.bin", cifar_records(1, 1, [](int, int) { return uint8_t(9); }));

  ImageSet one = read_cifar10(dir / "c10/data_batch_1.bin");
  check_cifar_pixels(one, 0, 2);
  CHECK(one.labels == std::vector<int32_t>{3, 4});
  ImageSet all = read_cifar10(dir / "c10");  // both training batches, not the test batch
  check_cifar_pixels(all, 0, 5);
  CHECK(all.labels == std::vector<int32_t>{3, 4, 2, 3, 4});

  auto c100_label = [](int r, int l) { return uint8_t(l == 0 ? 19 - r : 99 - r); };
  write_file(dir / "c100/train.bin", cifar_records(3, 2, c100_label));
  ImageSet fine = read_cifar100(dir / "c100");
  check_cifar_pixels(fine, 0, 3);
  CHECK(fine.labels == std::vector<int32_t>{99, 98, 97});
  CHECK(read_cifar100(dir / "c100/train.bin").labels == fine.labels);
}

TEST_CASE("corrupt CIFAR files fail with the file and the defect") {
  TempDir dir;
  Bytes good = cifar_records(3, 1, [](int, int) { return uint8_t(1); });
  write_file(dir / "data_batch_1.bin", Bytes(good.begin(), good.end() - 1));
  check_fails([&] { read_cifar10(dir / "data_batch_1.bin"); },
              {"data_batch_1.bin", "size 9218 is not a multiple of the 3073-byte CIFAR-10 record"});
  write_file(dir / "empty.bin", {});
  check_fails([&] { read_cifar10(dir / "empty.bin"); }, {"empty.bin", "empty"});
  Bytes bad_label = good;
  bad_label[2 * 3073] = 10;
  write_file(dir / "bad_label.bin", bad_label);
  check_fails([&] { read_cifar10(dir / "bad_label.bin"); }, {"bad_label.bin", "label 10 out of range 0..9 in record 2"});
  // CIFAR-100 fine label 100 and coarse label 20 are both out of range.
  Bytes c100 = cifar_records(2, 2, [](int r, int l) { return uint8_t(r == 1 ? (l == 0 ? 5 : 100) : 1); });
  write_file(dir / "fine.bin", c100);
  check_fails([&] { read_cifar100(dir / "fine.bin"); }, {"fine.bin", "label 100 out of range 0..99"});
  c100 = cifar_records(2, 2, [](int, int l) { return uint8_t(l == 0 ? 20 : 1); });
  write_file(dir / "coarse.bin", c100);
  check_fails([&] { read_cifar100(dir / "coarse.bin"); }, {"coarse.bin", "label 20 out of range 0..19"});
  check_fails([&] { read_cifar100(dir / "data_batch_1.bin"); }, {"data_batch_1.bin", "3074-byte CIFAR-100"});
  fs::create_directories(dir / "nothing");
  check_fails([&] { read_cifar10(dir / "nothing"); }, {"nothing", "no data_batch_"});
  check_fails([&] { read_cifar100(dir / "nothing"); }, {"nothing", "no train.bin"});
}
