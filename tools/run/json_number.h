// float32 values in JSON as people write them. nlohmann::json widens a float to double, and
// prints that double's shortest form: 2e-4f becomes 0.00019999999494757503. Here the float's
// own shortest decimal that reads back to it (0.0002) is what the double holds, so it prints
// as such, and float(the value read back) == f still.
#pragma once
#include <charconv>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

namespace dg {

inline double shortest_decimal(float f) {
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, f).ptr;  // the shortest round trip of f
  double d = f;  // (inf and nan are kept as they are)
  if (std::from_chars(buf, end, d).ec != std::errc() || float(d) != f) d = f;  // (never seen: rounded twice)
  return d;
}

inline nlohmann::json shortest_decimals(const std::vector<float>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (float f : v) out.push_back(shortest_decimal(f));
  return out;
}

}  // namespace dg
