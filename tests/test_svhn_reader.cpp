// The SVHN MAT-file reader (data/read_svhn_mat.h): plain and compressed MAT-file v5 elements
// written here, checked pixel by pixel (MATLAB's column-major order turned round); corrupt
// files required to fail with the file's name and what is wrong.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "reader_tests.h"  // check_fails, the SVHN matrices; dataset_files.h: TempDir, MAT-file writers

#include "data/read_svhn_mat.h"

using namespace dg::data;
using namespace dg::test;

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
