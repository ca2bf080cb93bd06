// 64-bit FNV-1a over bytes: a small, stable, non-cryptographic hash. dg writes its value into
// names that outlive a run (a feature network's "#<hash>" of its weights file, which
// statistics files carry; the real-statistics cache file name), so nothing here may change.
//
// Not the published FNV-1a values: the offset basis below is 1469598103934665603, the
// standard 14695981039346656037 with its last digit dropped, as dg has always hashed. The
// hash is as good with any nonzero basis; keeping it keeps every persisted name valid.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dg {

class Fnv1a {
 public:
  // Continues the hash over `bytes` bytes at `data` (a file may be fed in pieces).
  void add(const void* data, size_t bytes);
  void add(const std::string& s) { add(s.data(), s.size()); }
  // The hash so far as 16 lowercase hex digits, zero-padded.
  std::string hex() const;

 private:
  uint64_t h_ = 1469598103934665603ull;  // the offset basis (see above)
};

}  // namespace dg
