// safetensors (checkpoints, weight files): header JSON, offsets, shapes and body, the
// checksums entry and its verification, and a checkpoint's metadata.
#include <string>

#include "engine/safetensors.h"
#include "models/checkpoint.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dg;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  return fuzz::refusing_cleanly([&] {
    SafeTensors st = parse_safetensors(bytes, "fuzz input");
    volatile float sum = 0;  // read every value the parser handed out
    for (const auto& [name, t] : st.tensors)
      for (float v : t.data) sum = sum + v;
    if (st.metadata.count("format")) checkpoint_info(st, "fuzz input");
  });
}
