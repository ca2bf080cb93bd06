#include "engine/fnv1a.h"

#include <cstdio>

namespace dg {

void Fnv1a::add(const void* data, size_t bytes) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; i++) h_ = (h_ ^ p[i]) * 1099511628211ull;  // the FNV 64-bit prime
}

std::string Fnv1a::hex() const {
  char s[17];
  std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(h_));
  return s;
}

}  // namespace dg
