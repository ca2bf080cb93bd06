// The image folder reader (data/read_image_folder.h): PNG, JPEG and BMP files written here,
// sorted, center-cropped, resized and made 3-channel; bad folders and files (including ones
// that would make stb_image allocate more than they hold) required to fail with the file's
// name and what is wrong.
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "reader_tests.h"  // check_fails, rgb_ramp; dataset_files.h: TempDir, read_bytes, write_file

#include "data/read_image_folder.h"

using namespace dg::data;
using namespace dg::test;

namespace {

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
