// CIFAR-10 and CIFAR-100 binary batches: the same bytes through both readers.
#include "data/read_cifar.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dg;
  const std::string path = fuzz::as_file("data_batch_1.bin", data, size);
  fuzz::refusing_cleanly([&] { fuzz::touch(data::read_cifar10(path)); });
  return fuzz::refusing_cleanly([&] { fuzz::touch(data::read_cifar100(path)); });
}
