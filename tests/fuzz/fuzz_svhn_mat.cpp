// SVHN's MAT-file v5 (plain and zlib-compressed elements).
#include "data/read_svhn_mat.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dg;
  const std::string path = fuzz::as_file("train_32x32.mat", data, size);
  return fuzz::refusing_cleanly([&] { fuzz::touch(data::read_svhn_mat(path)); });
}
