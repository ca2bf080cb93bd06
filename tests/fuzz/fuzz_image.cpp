// One image file (PNG, JPEG, BMP, ... whatever stb_image recognises) in a folder: decode,
// center-crop, resize, then the models' preprocessing.
#include "data/read_image_folder.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dg;
  static const std::string dir = fuzz::scratch_dir() + "/images";
  std::filesystem::create_directories(dir);
  fuzz::as_file("images/input.png", data, size);
  return fuzz::refusing_cleanly([&] { fuzz::touch(data::read_image_folder(dir, 32)); });
}
