// What the fuzz harnesses share: the input as a file (the readers take paths; /dev/shm keeps
// it in memory), the touch of every decoded pixel through preprocessing, and the errors a
// harness accepts. dg's documented errors (dg::Error, data::DataError) mean the parser said
// no cleanly; anything else -- a crash, a sanitizer report, std::bad_alloc, another
// exception -- escapes and is a finding.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/image_set.h"
#include "data/preprocess.h"
#include "engine/error.h"

namespace dg::fuzz {

// A per-process scratch folder, kept between inputs.
inline std::string scratch_dir() {
  static const std::string dir = [] {
    const char* shm = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string d = std::string(shm) + "/dg_fuzz_" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes the input to scratch_dir()/name (replacing what was there); returns the path.
inline std::string as_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// Every pixel of (up to) the first images through the models' preprocessing, in the set's
// own channel count and, for grayscale, repeated to three.
inline void touch(const data::ImageSet& set) {
  std::vector<float> out(size_t(3) * 32 * 32);
  for (int i = 0; i < std::min(set.count, 4); i++) {
    data::preprocess_image(set, i, 32, set.channels, out.data());
    if (set.channels == 1) data::preprocess_image(set, i, 32, 3, out.data());
  }
}

// Runs f; dg's own errors are the expected way to refuse a bad file (DG_FUZZ_VERBOSE=1
// prints them, e.g. to see that the seeds are read, not refused).
template <typename F>
int refusing_cleanly(F f) {
  const bool verbose = std::getenv("DG_FUZZ_VERBOSE") != nullptr;
  try {
    f();
    if (verbose) std::fprintf(stderr, "  read\n");
  } catch (const dg::Error& e) {
    if (verbose) std::fprintf(stderr, "  refused: %s\n", e.what());
  } catch (const data::DataError& e) {
    if (verbose) std::fprintf(stderr, "  refused: %s\n", e.what());
  }
  return 0;
}

}  // namespace dg::fuzz
