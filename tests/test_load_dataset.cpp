// load_dataset (data/load_dataset.h): the format names, the detection of each format from
// files and folders written here, the data set names, and the installed Fashion-MNIST.
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>

#include <filesystem>
#include <string>
#include <vector>

#include "reader_tests.h"  // check_fails and the CIFAR, SVHN, RGB inputs; dataset_files.h: TempDir, writers

#include "data/load_dataset.h"

using namespace dg::data;
using namespace dg::test;

TEST_CASE("load_dataset resolves names, formats and folders") {
  CHECK(parse_format("auto") == Format::automatic);
  CHECK(parse_format("idx") == Format::idx);
  CHECK(parse_format("cifar10") == Format::cifar10);
  CHECK(parse_format("cifar100") == Format::cifar100);
  CHECK(parse_format("svhn") == Format::svhn);
  CHECK(parse_format("folder") == Format::folder);
  check_fails([] { parse_format("png"); }, {"'png'", "auto, idx, cifar10, cifar100, svhn, folder"});

  TempDir dir;
  write_gz(dir / "idx/t10k-images-idx3-ubyte.gz", idx_file(0x803, {1, 2, 2}, pattern_bytes(4)));
  write_gz(dir / "idx/train-images-idx3-ubyte.gz", idx_file(0x803, {3, 2, 2}, pattern_bytes(12)));
  write_gz(dir / "idx/train-labels-idx1-ubyte.gz", idx_file(0x801, {3}, {4, 5, 6}));
  write_file(dir / "c10/data_batch_1.bin", cifar_records(2, 1, [](int, int) { return uint8_t(1); }));
  write_file(dir / "c100/train.bin", cifar_records(3, 2, [](int, int) { return uint8_t(1); }));
  Bytes x = mat_matrix("X", 9, {kH, kW, kC, kN}, kMatUint8, svhn_x_column_major());
  write_file(dir / "svhn/test_32x32.mat", cat({mat_header(), x}));
  write_file(dir / "svhn/train_32x32.mat", cat({mat_header(), mat_compressed(x)}));
  Bytes rgb = rgb_ramp(3, 3);
  fs::create_directories(dir / "pics");
  REQUIRE(stbi_write_png((dir / "pics/p.png").c_str(), 3, 3, 3, rgb.data(), 9));
  write_file(dir / "renamed", idx_file(0x803, {2, 1, 1}, {1, 2}));

  struct Case { std::string path; int count, height; size_t labels; };
  for (const Case& c : {Case{dir / "idx", 3, 2, 3}, Case{dir / "idx/t10k-images-idx3-ubyte.gz", 1, 2, 0},
                        Case{dir / "c10", 2, 32, 2}, Case{dir / "c10/data_batch_1.bin", 2, 32, 2},
                        Case{dir / "c100", 3, 32, 3}, Case{dir / "svhn", kN, kH, 0},
                        Case{dir / "pics", 1, 5, 0}, Case{dir / "renamed", 2, 1, 0}}) {
    CAPTURE(c.path);
    ImageSet set = load_dataset(c.path, Format::automatic, 5);
    CHECK(set.count == c.count);
    CHECK(set.height == c.height);
    CHECK(set.labels.size() == c.labels);
  }
  CHECK(load_dataset(dir / "idx", Format::idx, 5).labels == std::vector<int32_t>{4, 5, 6});
  CHECK(load_dataset(dir / "svhn", Format::svhn, 5).source == dir / "svhn/train_32x32.mat");
  check_fails([&] { load_dataset(dir / "c10", Format::folder, 5); }, {"c10", "no PNG/JPEG/BMP"});
  check_fails([&] { load_dataset(dir / "absent", Format::automatic, 5); }, {"absent", "no such file or folder"});
  write_file(dir / "mystery.dat", Bytes(64, 0x42));
  check_fails([&] { load_dataset(dir / "mystery.dat", Format::automatic, 5); }, {"mystery.dat", "cannot tell"});
  if (!fs::exists("/usr/share/datasets/mnist")) {
    check_fails([] { load_dataset("mnist", Format::automatic, 5); }, {"/usr/share/datasets/mnist", "no Debian package"});
  }
}

TEST_CASE("the installed Fashion-MNIST training set") {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    // CTest reports the test as skipped on this line (SKIP_REGULAR_EXPRESSION, tests/CMakeLists.txt).
    MESSAGE("SKIPPED: /usr/share/datasets/fashion-mnist is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  ImageSet set = load_dataset("fashion-mnist", Format::automatic, 0);
  CHECK(set.count == 60000);
  CHECK(set.channels == 1);
  CHECK(set.height == 28);
  CHECK(set.width == 28);
  CHECK(set.pixels.size() == size_t(60000) * 28 * 28);
  REQUIRE(set.labels.size() == 60000);
  std::vector<int> per_class(10);
  for (int32_t l : set.labels) {
    REQUIRE(l >= 0);
    REQUIRE(l <= 9);
    per_class[size_t(l)]++;
  }
  CHECK(per_class == std::vector<int>(10, 6000));  // the training set is balanced
  CHECK(set.labels[0] == 9);                        // its first image is an ankle boot
}
