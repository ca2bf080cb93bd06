#include "data/read_idx.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "data/data_error.h"
#include "data/files.h"

namespace dg::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // uint8, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // uint8, 1 dimension
// Deflate cannot expand data more than about 1032:1, so a .gz file of n bytes never
// decompresses to more than this many times n. Used only to cap a reserve().
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr unsigned kChunkBytes = 1u << 20;

// An open gzFile that closes itself. Also reads uncompressed files (gzdirect).
class GzInput {
 public:
  explicit GzInput(const std::string& path) : path_(path) {
    file_size_ = regular_file_size(path);
    f_ = gzopen(path.c_str(), "rb");
    if (!f_) data_fail(path, "cannot open for reading");
    gzbuffer(f_, 256 * 1024);
  }
  ~GzInput() { gzclose(f_); }
  GzInput(const GzInput&) = delete;
  GzInput& operator=(const GzInput&) = delete;

  // Reads up to n bytes; returns how many arrived (0 at the end). Fails on corrupt gzip.
  size_t read_some(uint8_t* dst, size_t n) {
    int got = gzread(f_, dst, static_cast<unsigned>(std::min<size_t>(n, kChunkBytes)));
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f_, &errnum);
      data_fail(path_, "corrupt gzip data: ", zlib_message(msg));
    }
    return static_cast<size_t>(got);
  }
  size_t read_full(uint8_t* dst, size_t n) {
    size_t total = 0;
    while (total < n) {
      size_t got = read_some(dst + total, n - total);
      if (got == 0) break;
      total += got;
    }
    return total;
  }
  bool is_compressed() { return gzdirect(f_) == 0; }  // meaningful after the first read
  // zlib reports a gzip stream cut short not as a read error but as a Z_BUF_ERROR status.
  std::string stream_status() {
    int errnum = 0;
    const char* msg = gzerror(f_, &errnum);
    return errnum == Z_OK || !msg ? "" : " (gzip: " + zlib_message(msg) + ")";
  }
  uint64_t file_size() const { return file_size_; }

 private:
  // gzerror's text, less the "path: " prefix zlib puts in front (ours is already there).
  std::string zlib_message(const char* msg) const {
    std::string m = msg ? msg : "unknown zlib error";
    return m.rfind(path_ + ": ", 0) == 0 ? m.substr(path_.size() + 2) : m;
  }

  std::string path_;
  uint64_t file_size_ = 0;
  gzFile f_ = nullptr;
};

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

struct IdxContents {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> body;
};

// Reads one IDX file whose magic must be `magic` (what: its description for messages).
// Validates the header, then reads exactly the body the header announces: for an
// uncompressed file the length is checked before allocating; for gzip the body grows
// only as decompressed bytes arrive, and a short or long stream is an error.
IdxContents read_idx_file(const std::string& path, uint32_t magic, const char* what) {
  GzInput in(path);
  uint8_t head[4 + 4 * 3];
  size_t ndims = magic & 0xff;
  size_t head_bytes = 4 + 4 * ndims;
  size_t got = in.read_full(head, 4);
  if (got < 4) data_fail(path, "truncated header: ", got, " of ", head_bytes, " bytes");
  uint32_t found = big_endian_u32(head);
  if (found != magic) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "bad magic 0x%08x, expected 0x%08x (%s)", found, magic, what);
    data_fail(path, buf);
  }
  got = 4 + in.read_full(head + 4, head_bytes - 4);
  if (got < head_bytes) data_fail(path, "truncated header: ", got, " of ", head_bytes, " bytes");

  IdxContents idx;
  uint64_t body_bytes = 1;
  for (size_t d = 0; d < ndims; d++) {
    uint32_t n = big_endian_u32(head + 4 + 4 * d);
    if (n == 0 || n > INT_MAX) data_fail(path, "dimension ", d, " of the header is ", n, ", must be 1..", INT_MAX);
    if (!multiply_fits(body_bytes, n, &body_bytes)) data_fail(path, "header sizes overflow 64 bits");
    idx.dims.push_back(n);
  }

  if (!in.is_compressed()) {
    uint64_t have = in.file_size() - head_bytes;
    if (have != body_bytes) {
      data_fail(path, have < body_bytes ? "truncated: " : "trailing bytes: ", "the header announces ",
                body_bytes, " bytes after the ", head_bytes, "-byte header, the file has ", have);
    }
    idx.body.reserve(body_bytes);
  } else {
    idx.body.reserve(std::min(body_bytes, in.file_size() * kMaxDeflateRatio));
  }
  while (idx.body.size() < body_bytes) {
    size_t old = idx.body.size();
    size_t want = static_cast<size_t>(std::min<uint64_t>(body_bytes - old, kChunkBytes));
    idx.body.resize(old + want);
    size_t arrived = in.read_full(idx.body.data() + old, want);
    idx.body.resize(old + arrived);
    if (arrived < want) {
      data_fail(path, "truncated: the header announces ", body_bytes, " bytes after the ", head_bytes,
                "-byte header, the decompressed stream has ", idx.body.size(), in.stream_status());
    }
  }
  uint8_t extra;
  if (in.read_some(&extra, 1) != 0) {
    data_fail(path, "trailing bytes: the stream goes on past the ", body_bytes,
              " bytes the header announces");
  }
  return idx;
}

std::string replace_once(const std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.rfind(from);
  if (at == std::string::npos) return "";
  return s.substr(0, at) + to + s.substr(at + from.size());
}

}  // namespace

ImageSet read_idx(const std::string& images_path, const std::string& labels_path) {
  IdxContents images = read_idx_file(images_path, kImagesMagic, "IDX uint8 3-d images");
  ImageSet set;
  set.count = static_cast<int>(images.dims[0]);
  set.channels = 1;
  set.height = static_cast<int>(images.dims[1]);
  set.width = static_cast<int>(images.dims[2]);
  set.pixels = std::move(images.body);
  set.source = images_path;
  if (labels_path.empty()) return set;

  IdxContents labels = read_idx_file(labels_path, kLabelsMagic, "IDX uint8 1-d labels");
  if (labels.dims[0] != images.dims[0]) {
    data_fail(labels_path, "holds ", labels.dims[0], " labels but ", images_path, " holds ",
              images.dims[0], " images");
  }
  set.labels.assign(labels.body.begin(), labels.body.end());
  return set;
}

std::string idx_labels_path_for(const std::string& images_path) {
  std::filesystem::path p(images_path);
  std::string name = p.filename().string();
  for (const char* sep : {"-", "."}) {
    std::string images = std::string("images") + sep + "idx3-ubyte";
    std::string labels = std::string("labels") + sep + "idx1-ubyte";
    std::string candidate = replace_once(name, images, labels);
    if (candidate.empty()) continue;
    std::filesystem::path full = p.parent_path() / candidate;
    std::error_code ec;
    if (std::filesystem::is_regular_file(full, ec)) return full.string();
  }
  return "";
}

bool is_idx_images_name(const std::string& file_name) {
  return ends_with_lower(file_name, "idx3-ubyte") || ends_with_lower(file_name, "idx3-ubyte.gz");
}

}  // namespace dg::data
