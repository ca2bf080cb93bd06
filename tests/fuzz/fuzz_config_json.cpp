// A run folder's config.json, as --resume reads it: JSON, then every setting validated.
#include <string>

#include <nlohmann/json.hpp>

#include "tests/fuzz/fuzz_common.h"
#include "tools/run/train_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dg;
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;  // not JSON: the reader reports that (tools/run/run_folder.cpp)
  return fuzz::refusing_cleanly([&] {
    TrainOptions o = options_from_json(j);
    validate(o.train);
  });
}
