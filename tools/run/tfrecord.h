// TFRecord framing, the container of TensorBoard's event files. Each record is
//   uint64 length | uint32 masked CRC-32C of the 8 length bytes | data | uint32 masked CRC-32C of data
// all little-endian; masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2^32). CRC-32C is
// the Castagnoli polynomial (reflected 0x82F63B78), as in iSCSI (RFC 3720).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dg {

uint32_t crc32c(const void* data, size_t n);
uint32_t masked_crc32c(const void* data, size_t n);

// One framed record holding `data`.
std::string tfrecord(const std::string& data);

// The records of a file in order. `torn`: the file ends in a record cut short or fails a
// CRC (a killed writer); reading stops there.
struct TfRecords {
  std::vector<std::string> records;
  bool torn = false;
};
TfRecords read_tfrecords(const std::string& path);

}  // namespace dg
