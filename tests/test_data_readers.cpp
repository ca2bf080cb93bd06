// Readers of data/: each format from small files written here (valid ones checked pixel
// by pixel, corrupt ones required to fail with the file's name and what is wrong), the
// data set names and format detection of load_dataset, and the installed Fashion-MNIST.
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "dataset_files.h"  // TempDir and writers of small IDX, CIFAR, MAT-file and image files

#include "data/data_error.h"
#include "data/load_dataset.h"
#include "data/read_cifar.h"
#include "data/read_idx.h"
#include "data/read_image_folder.h"
#include "data/read_svhn_mat.h"

using namespace dg::data;
using namespace dg::test;

namespace {

// f() must throw DataError, and its message must contain every one of `words`.
void check_fails(const std::function<void()>& f, std::initializer_list<std::string> words) {
  try {
    f();
    FAIL_CHECK("no DataError thrown; expected one mentioning ", *words.begin());
  } catch (const DataError& e) {
    const std::string message = e.what();
    for (const std::string& w : words) CHECK_MESSAGE(message.find(w) != std::string::npos, message, " lacks '", w, "'");
  }
}

}  // namespace

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

namespace {

Bytes cifar_records(int count, int label_bytes, const std::function<uint8_t(int, int)>& label) {
  Bytes b;
  for (int r = 0; r < count; r++) {
    for (int l = 0; l < label_bytes; l++) b.push_back(label(r, l));
    for (size_t i = 0; i < 3072; i++) b.push_back(pattern(size_t(r) * 3072 + i));
  }
  return b;
}

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

namespace {

constexpr int kH = 4, kW = 3, kC = 3, kN = 2;  // non-square, so a missed transpose shows
uint8_t svhn_value(int r, int c, int ch, int n) { return uint8_t(r + 10 * c + 50 * ch + 100 * n + 1); }

Bytes svhn_x_column_major() {
  Bytes x;
  for (int n = 0; n < kN; n++)
    for (int ch = 0; ch < kC; ch++)
      for (int c = 0; c < kW; c++)
        for (int r = 0; r < kH; r++) x.push_back(svhn_value(r, c, ch, n));
  return x;
}

Bytes svhn_y_double(std::vector<double> labels) {
  Bytes y(labels.size() * 8);
  std::memcpy(y.data(), labels.data(), y.size());
  return y;
}

}  // namespace

TEST_CASE("SVHN MAT-files, plain and compressed elements") {
  TempDir dir;
  Bytes x = mat_matrix("X", 9, {kH, kW, kC, kN}, kMatUint8, svhn_x_column_major());
  Bytes y_double = mat_matrix("y", 6, {kN, 1}, kMatDouble, svhn_y_double({10, 3}));
  Bytes y_uint8 = mat_matrix("y", 6, {kN, 1}, kMatUint8, {10, 3});  // MATLAB's narrow storage of doubles
  Bytes note = mat_matrix("note", 4, {1, 2}, 0, {});               // a char array: skipped
  write_file(dir / "plain.mat", cat({mat_header(), note, x, y_double}));
  write_file(dir / "packed.mat", cat({mat_header(), mat_compressed(y_uint8), mat_compressed(x)}));

  for (const char* name : {"plain.mat", "packed.mat"}) {
    CAPTURE(name);
    ImageSet set = read_svhn_mat(dir / name);
    REQUIRE(set.count == kN);
    CHECK(set.channels == kC);
    CHECK(set.height == kH);
    CHECK(set.width == kW);
    REQUIRE(set.pixels.size() == size_t(kN * kC * kH * kW));
    int wrong = 0;
    for (int n = 0; n < kN; n++)
      for (int ch = 0; ch < kC; ch++)
        for (int r = 0; r < kH; r++)
          for (int c = 0; c < kW; c++) wrong += set.pixels[((n * kC + ch) * kH + r) * kW + c] != svhn_value(r, c, ch, n);
    CHECK(wrong == 0);
    CHECK(set.labels == std::vector<int32_t>{0, 3});  // 10 stands for the digit 0
  }
  // One image: MATLAB drops the trailing dimension of 1.
  Bytes one = svhn_x_column_major();
  one.resize(kH * kW * kC);
  write_file(dir / "one.mat", cat({mat_header(), mat_matrix("X", 9, {kH, kW, kC}, kMatUint8, one)}));
  CHECK(read_svhn_mat(dir / "one.mat").count == 1);
}

TEST_CASE("corrupt MAT-files fail with the file and the defect") {
  TempDir dir;
  Bytes x = mat_matrix("X", 9, {kH, kW, kC, kN}, kMatUint8, svhn_x_column_major());
  Bytes y = mat_matrix("y", 6, {kN, 1}, kMatDouble, svhn_y_double({1, 2}));
  auto check_mat = [&](const std::string& name, const Bytes& file, std::initializer_list<std::string> words) {
    write_file(dir / name, file);
    check_fails([&] { read_svhn_mat(dir / name); }, words);
  };
  check_mat("short.mat", Bytes(100, 'M'), {"short.mat", "too short"});
  Bytes not_mat = mat_header();
  not_mat[126] = 'X';
  check_mat("notmat.mat", cat({not_mat, x}), {"notmat.mat", "not a MAT-file"});
  Bytes hdf5 = mat_header();
  std::memcpy(hdf5.data(), "MATLAB 7.3", 10);
  check_mat("v73.mat", cat({hdf5, x}), {"v73.mat", "v7.3"});
  Bytes big_endian = mat_header();
  std::swap(big_endian[126], big_endian[127]);
  check_mat("big.mat", cat({big_endian, x}), {"big.mat", "big-endian"});

  Bytes long_tag = x;
  long_tag[4] += 64;  // the miMATRIX tag claims 64 bytes more than the file has
  check_mat("longtag.mat", cat({mat_header(), long_tag}), {"longtag.mat", "byte 128", "remain"});
  Bytes inner = x;
  inner[8 + 16 + 8 + 12] = 5;  // X's last dimension 2 -> 5: more values than data
  check_mat("dims.mat", cat({mat_header(), inner}), {"dims.mat", "holding 180 values", "72 bytes"});
  check_mat("cut.mat", cat({mat_header(), Bytes(x.begin(), x.end() - 40)}), {"cut.mat", "remain"});
  check_mat("noX.mat", cat({mat_header(), y}), {"noX.mat", "no variable X"});
  check_mat("doubleX.mat", cat({mat_header(), mat_matrix("X", 6, {1, 1, 1, 1}, kMatDouble, Bytes(8))}),
            {"doubleX.mat", "expected real uint8"});
  check_mat("label.mat", cat({mat_header(), x, mat_matrix("y", 6, {kN, 1}, kMatDouble, svhn_y_double({1, 11}))}),
            {"label.mat", "y(2) = 11"});
  check_mat("count.mat", cat({mat_header(), x, mat_matrix("y", 6, {3, 1}, kMatDouble, svhn_y_double({1, 2, 3}))}),
            {"count.mat", "3 labels", "2 images"});

  Bytes packed = mat_compressed(x);
  Bytes damaged = packed;
  damaged[8] ^= 0xff;  // the zlib header
  check_mat("damaged.mat", cat({mat_header(), damaged}), {"damaged.mat", "corrupt compressed data"});
  // A zlib stream cut short, inside a tag that agrees with its shortened length.
  Bytes cut = packed;
  cut.resize(cut.size() - 12);
  cut[4] -= 12;
  check_mat("zcut.mat", cat({mat_header(), cut}), {"zcut.mat", "truncated"});
  // Compressed data that inflates to more than the inner tag announces.
  Bytes inner_short = x;
  inner_short[4] -= 8;
  check_mat("zlong.mat", cat({mat_header(), mat_compressed(inner_short)}), {"zlong.mat", "inflates past"});
}

namespace {

// w x h RGB image whose pixel (x, y) channel c is 20x + 3y + 100c.
Bytes rgb_ramp(int w, int h) {
  Bytes b;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) b.push_back(uint8_t(20 * x + 3 * y + 100 * c));
  return b;
}

uint8_t at(const ImageSet& s, int image, int c, int y, int x) {
  return s.pixels[((size_t(image) * s.channels + c) * s.height + y) * s.width + x];
}

}  // namespace

TEST_CASE("image folders: sorted, center-cropped, resized, 3 channels") {
  TempDir dir;
  fs::create_directories(dir / "sub");
  Bytes wide = rgb_ramp(4, 2);  // crop keeps columns 1..2
  REQUIRE(stbi_write_png((dir / "b_wide.png").c_str(), 4, 2, 3, wide.data(), 4 * 3));
  Bytes tall = rgb_ramp(2, 5);  // crop keeps rows 1..2
  REQUIRE(stbi_write_bmp((dir / "a_tall.BMP").c_str(), 2, 5, 3, tall.data()));
  Bytes gray_alpha = {10, 255, 20, 0, 30, 128, 40, 7};  // 2x2 gray + alpha
  REQUIRE(stbi_write_png((dir / "sub/c_gray.png").c_str(), 2, 2, 2, gray_alpha.data(), 2 * 2));
  Bytes flat(8 * 8 * 3);
  for (size_t i = 0; i < flat.size(); i++) flat[i] = uint8_t(60 + 40 * (i % 3));
  REQUIRE(stbi_write_jpg((dir / "d_flat.JPEG").c_str(), 8, 8, 3, flat.data(), 100));
  write_file(dir / "readme.txt", {'h', 'i'});

  ImageSet set = read_image_folder(dir.path.string(), 2);
  REQUIRE(set.count == 4);  // a_tall.BMP, b_wide.png, d_flat.JPEG, sub/c_gray.png
  CHECK(set.channels == 3);
  CHECK(set.height == 2);
  CHECK(set.width == 2);
  CHECK(set.labels.empty());
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 2; x++) {
        CHECK(at(set, 0, c, y, x) == 20 * x + 3 * (y + 1) + 100 * c);  // tall: rows 1, 2
        CHECK(at(set, 1, c, y, x) == 20 * (x + 1) + 3 * y + 100 * c);  // wide: columns 1, 2
        CHECK(std::abs(int(at(set, 2, c, y, x)) - (60 + 40 * c)) <= 2);  // JPEG is lossy
        CHECK(at(set, 3, c, y, x) == gray_alpha[size_t(2 * (2 * y + x))]);  // gray repeated, alpha gone
      }

  // Resized: the 2x2 gray image to 4x4 (align_corners=false): along each axis the
  // output samples the input at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper tap
  // clamped), i.e. weights (1,0) (.75,.25) (.25,.75) (0,1). Rows 10 20 / 30 40 give
  // row 0: 10 12.5 17.5 20; row 1: 15 17.5 22.5 25 -> rounded half up.
  fs::create_directories(dir / "one");
  REQUIRE(stbi_write_png((dir / "one/g.png").c_str(), 2, 2, 2, gray_alpha.data(), 2 * 2));
  ImageSet big = read_image_folder(dir / "one", 4);
  const int expected[4][4] = {{10, 13, 18, 20}, {15, 18, 23, 25}, {25, 28, 33, 35}, {30, 33, 38, 40}};
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++) CHECK(at(big, 0, 1, y, x) == expected[y][x]);
}

TEST_CASE("bad image folders fail with the file and the defect") {
  TempDir dir;
  Bytes ok = rgb_ramp(2, 2);
  for (int i = 0; i < 6; i++) REQUIRE(stbi_write_png((dir / ("img" + std::to_string(i) + ".png")).c_str(), 2, 2, 3, ok.data(), 6));
  write_file(dir / "img3_broken.png", {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  write_file(dir / "img5_broken.jpg", {0xff, 0xd8, 0xff, 0x00});
  // Two bad files: the first in path order is the one reported, whatever the threads do.
  for (int repeat = 0; repeat < 5; repeat++) {
    check_fails([&] { read_image_folder(dir.path.string(), 2); }, {"img3_broken.png", "cannot decode image: "});
  }
  fs::create_directories(dir / "empty/sub");
  write_file(dir / "empty/sub/notes.txt", {'x'});
  check_fails([&] { read_image_folder(dir / "empty", 2); }, {"empty", "no PNG/JPEG/BMP images"});
  check_fails([&] { read_image_folder(dir.path.string(), 0); }, {"image size 0"});
  check_fails([&] { read_image_folder(dir / "nowhere", 2); }, {"nowhere", "not a folder"});
}

TEST_CASE("image files that would make stb_image allocate more than they can hold are refused") {
  TempDir dir;
  Bytes ok = rgb_ramp(3, 2);
  const std::string good = dir / "good/a.png";
  fs::create_directories(dir / "good");
  REQUIRE(stbi_write_png(good.c_str(), 3, 2, 3, ok.data(), 9) != 0);
  Bytes png = read_bytes(good);
  // A chunk whose length field claims 800 MB (found by fuzzing: stb_image reserved that much
  // for the compressed data before reading it).
  Bytes bad_chunk = png;
  const size_t idat = 33;  // signature (8) + IHDR chunk (4 + 4 + 13 + 4)
  REQUIRE(std::string(bad_chunk.begin() + idat + 4, bad_chunk.begin() + idat + 8) == "IDAT");
  bad_chunk[idat] = 0x31;
  write_file(dir / "chunk/a.png", bad_chunk);
  check_fails([&] { read_image_folder(dir / "chunk", 2); }, {"a.png", "PNG chunk 'IDAT' at byte 33 claims"});
  // A header claiming 8000 x 8000 pixels in a file of a few dozen bytes.
  Bytes huge = png;
  const uint8_t dims[8] = {0, 0, 0x1f, 0x40, 0, 0, 0x1f, 0x40};
  std::copy(dims, dims + 8, huge.begin() + 16);
  write_file(dir / "huge/a.png", huge);
  check_fails([&] { read_image_folder(dir / "huge", 2); }, {"a.png", "cannot hold a 8000x8000 image"});
  // A BMP whose header says height 0 (found by fuzzing: the crop and resize then read
  // outside the empty pixel buffer).
  const std::string bmp = dir / "good/b.bmp";
  REQUIRE(stbi_write_bmp(bmp.c_str(), 3, 2, 3, ok.data()) != 0);
  Bytes flat = read_bytes(bmp);
  std::fill(flat.begin() + 22, flat.begin() + 26, 0);  // biHeight
  write_file(dir / "flat/a.bmp", flat);
  check_fails([&] { read_image_folder(dir / "flat", 2); }, {"a.bmp", "has no pixels"});
}

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
