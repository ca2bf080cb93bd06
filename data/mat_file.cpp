#include "data/mat_file.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "data/data_error.h"
#include "data/files.h"

static_assert(std::endian::native == std::endian::little, "MAT-file values are read with memcpy");

namespace dg::data {
namespace {

constexpr size_t kHeaderBytes = 128;
constexpr uint64_t kMaxDeflateRatio = 1032;  // deflate never expands more than this
constexpr size_t kChunkBytes = size_t(1) << 20;

uint32_t le_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// A position inside a run of bytes, with what that run is ("the file", "the element
// inflated from file byte 128") and the offset in it, so messages say where a defect is.
struct Cursor {
  const std::string* path;
  std::string where;
  const uint8_t* p;
  size_t left;
  size_t offset;

  void advance(size_t n) { p += n; left -= n; offset += n; }
};

template <typename... Parts>
[[noreturn]] void fail_at(const Cursor& c, const Parts&... parts) {
  data_fail(*c.path, "at byte ", c.offset, " of ", c.where, ": ", parts...);
}

struct Tag {
  uint32_t type = 0;
  uint32_t bytes = 0;          // data bytes, without tag and padding
  const uint8_t* data = nullptr;
};

// Reads one tag and steps over its data and padding. miCOMPRESSED data is not padded.
Tag read_tag(Cursor& c) {
  if (c.left < 8) fail_at(c, "truncated: a tag needs 8 bytes, ", c.left, " remain");
  Tag t;
  uint32_t w0 = le_u32(c.p), w1 = le_u32(c.p + 4);
  if (w0 >> 16) {  // small element: type and size share the first word, data the second
    t.type = w0 & 0xffff;
    t.bytes = w0 >> 16;
    if (t.bytes > 4) fail_at(c, "small element claims ", t.bytes, " bytes, at most 4 fit");
    t.data = c.p + 4;
    c.advance(8);
    return t;
  }
  t.type = w0;
  t.bytes = w1;
  if (t.bytes > c.left - 8) fail_at(c, "tag of type ", t.type, " says ", t.bytes, " bytes but only ", c.left - 8, " remain");
  t.data = c.p + 8;
  size_t total = 8 + size_t(t.bytes);
  if (t.type != miCOMPRESSED) total = (total + 7) & ~size_t(7);
  c.advance(std::min(total, c.left));  // the last element's padding may be missing
  return t;
}

Tag expect_tag(Cursor& c, uint32_t type, const char* what) {
  Tag t = read_tag(c);
  if (t.type != type) fail_at(c, what, " has type ", t.type, ", expected ", type);
  return t;
}

// Parses the sub-elements of one miMATRIX (c covers exactly its data bytes).
MatVariable parse_matrix(Cursor c) {
  MatVariable v;
  Tag flags = expect_tag(c, miUINT32, "array flags");
  if (flags.bytes != 8) fail_at(c, "array flags have ", flags.bytes, " bytes, expected 8");
  uint32_t flag_word = le_u32(flags.data);
  v.class_id = int(flag_word & 0xff);
  v.is_complex = (flag_word & 0x0800) != 0;

  Tag dims = expect_tag(c, miINT32, "dimensions");
  if (dims.bytes < 8 || dims.bytes % 4) fail_at(c, "dimensions have ", dims.bytes, " bytes, expected 4 per dimension, at least 2");
  uint64_t count = 1;
  for (uint32_t i = 0; i < dims.bytes / 4; i++) {
    int32_t d = int32_t(le_u32(dims.data + 4 * i));
    if (d < 0) fail_at(c, "dimension ", i, " is negative (", d, ")");
    v.dims.push_back(uint64_t(d));
    if (!multiply_fits(count, uint64_t(d), &count)) fail_at(c, "dimensions overflow 64 bits");
  }

  Tag name = expect_tag(c, miINT8, "array name");
  v.name.assign(reinterpret_cast<const char*>(name.data), name.bytes);

  if (v.class_id < 6 || v.class_id > 15) return v;  // cell, struct, char, sparse...: not needed
  Tag real = read_tag(c);
  size_t value_bytes = mat_type_size(real.type);
  if (value_bytes == 0) fail_at(c, "numeric array '", v.name, "' stores its values as non-numeric type ", real.type);
  if (real.bytes % value_bytes || real.bytes / value_bytes != count) {
    fail_at(c, "array '", v.name, "' has dimensions holding ", count, " values but its data holds ",
            real.bytes, " bytes of ", value_bytes, "-byte values");
  }
  v.data_type = real.type;
  v.data = real.data;
  v.element_count = count;
  if (v.is_complex) read_tag(c);  // imaginary part: validated, not kept
  return v;
}

// Inflates a zlib stream piece by piece, so output memory follows the data that arrives.
class Inflater {
 public:
  Inflater(const Cursor& at, const uint8_t* src, size_t n) : at_(at), in_(src), in_left_(n) {
    if (inflateInit(&zs_) != Z_OK) fail_at(at_, "cannot start zlib");
  }
  ~Inflater() { inflateEnd(&zs_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Writes up to `want` bytes to dst; fewer only when the stream has ended.
  size_t produce(uint8_t* dst, size_t want) {
    size_t done = 0;
    while (done < want && !ended_) {
      if (zs_.avail_in == 0 && in_left_ > 0) {
        size_t chunk = std::min(in_left_, size_t(1) << 30);  // avail_in is 32-bit
        zs_.next_in = const_cast<uint8_t*>(in_);
        zs_.avail_in = static_cast<uInt>(chunk);
        in_ += chunk;
        in_left_ -= chunk;
      }
      size_t out_chunk = std::min(want - done, size_t(1) << 30);
      zs_.next_out = dst + done;
      zs_.avail_out = static_cast<uInt>(out_chunk);
      int ret = inflate(&zs_, Z_NO_FLUSH);
      done += out_chunk - zs_.avail_out;
      if (ret == Z_STREAM_END) {
        ended_ = true;
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        fail_at(at_, "corrupt compressed data: ", zs_.msg ? zs_.msg : "zlib error");
      } else if (zs_.avail_in == 0 && in_left_ == 0 && zs_.avail_out > 0) {
        fail_at(at_, "truncated: the compressed data ends before its zlib stream does");
      }
    }
    return done;
  }
  bool ended() const { return ended_; }

 private:
  Cursor at_;
  z_stream zs_{};
  const uint8_t* in_;
  size_t in_left_;
  bool ended_ = false;
};

// The bytes of the one miMATRIX element (tag included) a miCOMPRESSED element holds.
// Checks that the stream inflates to exactly the size that inner tag announces.
std::vector<uint8_t> inflate_element(const Cursor& at, const Tag& compressed) {
  Inflater z(at, compressed.data, compressed.bytes);
  std::vector<uint8_t> out(8);
  if (z.produce(out.data(), 8) < 8) fail_at(at, "compressed element inflates to fewer than 8 bytes");
  uint32_t type = le_u32(out.data()), bytes = le_u32(out.data() + 4);
  if (type != miMATRIX) fail_at(at, "compressed element holds type ", type, ", expected miMATRIX (14)");
  uint64_t total = 8 + uint64_t(bytes);
  out.reserve(std::min<uint64_t>(total, 8 + compressed.bytes * kMaxDeflateRatio));
  while (out.size() < total) {
    size_t old = out.size();
    size_t want = std::min<uint64_t>(total - old, kChunkBytes);
    out.resize(old + want);
    size_t got = z.produce(out.data() + old, want);
    out.resize(old + got);
    if (got < want) fail_at(at, "truncated: compressed element inflates to ", out.size(), " bytes, its tag says ", total);
  }
  uint8_t extra;
  if (z.produce(&extra, 1) != 0) fail_at(at, "compressed element inflates past the ", total, " bytes its tag says");
  return out;
}

void check_header(const std::string& path, const std::vector<uint8_t>& file) {
  if (file.size() < kHeaderBytes) {
    data_fail(path, "too short for a MAT-file: ", file.size(), " bytes, the header alone is ", kHeaderBytes);
  }
  const uint8_t* h = file.data();
  if (std::memcmp(h, "MATLAB 7.3", 10) == 0) {
    data_fail(path, "MAT-file v7.3 (HDF5) is not supported; re-save it with save -v7");
  }
  if (h[126] == 'M' && h[127] == 'I') data_fail(path, "big-endian MAT-file, not supported");
  if (h[126] != 'I' || h[127] != 'M') data_fail(path, "not a MAT-file: no 'IM' endian mark at byte 126");
  unsigned version = h[124] | (h[125] << 8);
  if (version != 0x0100) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "MAT-file version 0x%04x, expected 0x0100 (level 5)", version);
    data_fail(path, buf);
  }
}

}  // namespace

size_t mat_type_size(uint32_t t) {
  switch (t) {
    case miINT8: case miUINT8: return 1;
    case miINT16: case miUINT16: return 2;
    case miINT32: case miUINT32: case miSINGLE: return 4;
    case miDOUBLE: case miINT64: case miUINT64: return 8;
    default: return 0;
  }
}

double mat_value(const MatVariable& v, uint64_t i) {
  const uint8_t* p = v.data + i * mat_type_size(v.data_type);
  auto load = [p](auto zero) { std::memcpy(&zero, p, sizeof zero); return double(zero); };
  switch (v.data_type) {
    case miINT8: return load(int8_t{});
    case miUINT8: return load(uint8_t{});
    case miINT16: return load(int16_t{});
    case miUINT16: return load(uint16_t{});
    case miINT32: return load(int32_t{});
    case miUINT32: return load(uint32_t{});
    case miSINGLE: return load(float{});
    case miDOUBLE: return load(double{});
    case miINT64: return load(int64_t{});
    case miUINT64: return load(uint64_t{});
    default: return 0.0;  // parse_matrix admits numeric types only
  }
}

const MatVariable* MatFile::find(const std::string& name) const {
  for (const MatVariable& v : variables) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

MatFile read_mat_file(const std::string& path) {
  MatFile mat;
  mat.path = path;
  mat.storage.push_back(read_file_bytes(path));
  check_header(path, mat.storage[0]);
  // Raw pointers into storage stay valid as storage grows: the inner buffers never move.
  const uint8_t* file = mat.storage[0].data();
  Cursor c{&path, "the file", file + kHeaderBytes, mat.storage[0].size() - kHeaderBytes, kHeaderBytes};
  while (c.left > 0) {
    Cursor element = c;  // where this element starts, for messages
    Tag t = read_tag(c);
    if (t.type == miMATRIX) {
      mat.variables.push_back(parse_matrix(Cursor{&path, "the file", t.data, t.bytes, element.offset + 8}));
    } else if (t.type == miCOMPRESSED) {
      mat.storage.push_back(inflate_element(element, t));
      const std::vector<uint8_t>& inner = mat.storage.back();
      std::string where = "the element inflated from file byte " + std::to_string(element.offset);
      mat.variables.push_back(parse_matrix(Cursor{&path, where, inner.data() + 8, inner.size() - 8, 8}));
    }  // other top-level elements (none in practice) are skipped
  }
  return mat;
}

}  // namespace dg::data
