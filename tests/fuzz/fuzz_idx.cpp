// IDX (MNIST / Fashion-MNIST), raw or gzip: the first input byte picks images alone or
// images + labels, the next two bytes where the input splits into the two files.
#include "data/read_idx.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dg;
  if (size < 3) return 0;
  const bool with_labels = data[0] & 1;
  const size_t split = std::min(size - 3, size_t(data[1]) | size_t(data[2]) << 8);
  const uint8_t* body = data + 3;
  const size_t body_size = size - 3;
  return fuzz::refusing_cleanly([&] {
    const std::string images = fuzz::as_file("train-images-idx3-ubyte", body, with_labels ? split : body_size);
    const std::string labels =
        with_labels ? fuzz::as_file("train-labels-idx1-ubyte", body + split, body_size - split) : "";
    fuzz::touch(data::read_idx(images, labels));
  });
}
