// DataError: every failure of the data module (a reader meeting a bad file, a loader given
// an impossible configuration). The message always starts with what was being read -- a
// file, a folder or a data set name -- then says what is wrong, with the offending values:
//   "train-images-idx3-ubyte.gz: bad magic 0x00000802, expected 0x00000803 (...)"
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace dg::data {

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// data_fail(path, "size ", n, " is not ...") throws DataError("path: size 12 is not ...").
template <typename... Parts>
[[noreturn]] void data_fail(const std::string& what_was_read, const Parts&... parts) {
  std::ostringstream s;
  s << what_was_read << ": ";
  (s << ... << parts);
  throw DataError(s.str());
}

}  // namespace dg::data
