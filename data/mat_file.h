// MATLAB level-5 MAT-files (what `save -v7` and scipy.io.savemat write), enough of the
// format to pull numeric arrays out of one:
//   128-byte header: 116 bytes of text, 8 bytes subsystem offset, uint16 version 0x0100,
//                    2 bytes endian mark "IM" (little-endian file; "MI" is big-endian).
//   data elements:   an 8-byte tag (uint32 type, uint32 byte count) then the data, padded
//                    to 8 bytes. A tag whose upper 16 bits of the first word are non-zero
//                    is the "small element" form: type in the low 16 bits, count in the
//                    high 16, up to 4 data bytes in the tag's second word.
//   miMATRIX (14):   sub-elements: array flags (class, complex), dimensions, name, real
//                    part, [imaginary part]. Numeric data is column-major and may be
//                    stored in a narrower type than its class (a double array of small
//                    integers is often stored as miUINT8).
//   miCOMPRESSED (15): a zlib stream that inflates to one whole miMATRIX element.
// Only little-endian files are read. Every tag's size is checked against the bytes that
// remain around it before it is used.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dg::data {

enum MatDataType : uint32_t {
  miINT8 = 1, miUINT8 = 2, miINT16 = 3, miUINT16 = 4, miINT32 = 5, miUINT32 = 6,
  miSINGLE = 7, miDOUBLE = 9, miINT64 = 12, miUINT64 = 13, miMATRIX = 14, miCOMPRESSED = 15,
};
enum MatClass : int { mxDOUBLE_CLASS = 6, mxUINT8_CLASS = 9 };

// One top-level variable. For numeric classes, data points at the real part's raw
// little-endian bytes (data_type says how they are stored), inside MatFile's storage.
struct MatVariable {
  std::string name;
  int class_id = 0;                // mx*_CLASS; 6..15 are numeric
  bool is_complex = false;
  std::vector<uint64_t> dims;      // as stored: column-major, at least 2
  uint32_t data_type = 0;          // mi* type of the real part (0 for non-numeric classes)
  const uint8_t* data = nullptr;   // real part
  uint64_t element_count = 0;      // product of dims == data bytes / size of data_type
};

struct MatFile {
  std::string path;
  std::vector<std::vector<uint8_t>> storage;  // the file, plus one buffer per inflated element
  std::vector<MatVariable> variables;         // in file order

  const MatVariable* find(const std::string& name) const;
};

// Parses the whole file. DataError naming the file and the byte offset on any defect.
MatFile read_mat_file(const std::string& path);

// Size in bytes of one value of a numeric mi* type, 0 for anything else.
size_t mat_type_size(uint32_t data_type);

// Value i of a numeric variable's real part, converted to double.
double mat_value(const MatVariable& v, uint64_t i);

}  // namespace dg::data
