// dg error handling: every failure is a dg::Error whose message says what went wrong,
// with the offending value, and where (file:line of the check).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace dg {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Builds a message from any streamable pieces: fail_at(__FILE__, __LINE__, "bad k=", k).
template <typename... Parts>
[[noreturn]] void fail_at(const char* file, int line, const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  s << " [" << file << ":" << line << "]";
  throw Error(s.str());
}

}  // namespace dg

// DG_CHECK(cond, "message pieces", value, ...): throws dg::Error naming the call site.
#define DG_CHECK(cond, ...)                                   \
  do {                                                        \
    if (!(cond)) ::dg::fail_at(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
#define DG_FAIL(...) ::dg::fail_at(__FILE__, __LINE__, __VA_ARGS__)
