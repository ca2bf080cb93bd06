// TensorBoard events, encoded by hand rather than with libprotobuf: dg writes five small
// messages (a dozen fields, tools/run/tb_events.h), and the GPU machines dg trains on have no
// Debian packages, so a libprotobuf build would leave exactly those runs without events. The
// encoding is checked by an independent reader: TensorBoard's own (tests/read_events.py).
#include "tools/run/tb_events.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "engine/error.h"
#include "tools/run/tfrecord.h"

namespace fs = std::filesystem;

namespace dg {

namespace {

// Protocol buffer wire format: a key (field << 3 | wire type) before each value; varints
// little-endian base 128; fixed64/fixed32 little-endian; length-delimited: varint length + bytes.
struct Proto {
  std::string b;
  void varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) b += char(v | 0x80);
    b += char(v);
  }
  void key(int field, int wire) { varint(uint64_t(field) << 3 | unsigned(wire)); }
  void fixed(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) b += char((v >> (8 * i)) & 0xff);
  }
  Proto& int64(int field, int64_t v) { return key(field, 0), varint(uint64_t(v)), *this; }
  Proto& f64(int field, double v) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    return key(field, 1), fixed(u, 8), *this;
  }
  Proto& f32(int field, float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return key(field, 5), fixed(u, 4), *this;
  }
  Proto& bytes(int field, const std::string& s) { return key(field, 2), varint(s.size()), b += s, *this; }
  Proto& message(int field, const Proto& m) { return bytes(field, m.b); }
};

double unix_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr const char* kPrefix = "events.out.tfevents.";

// The events files of a folder, in name order (TensorBoard's order).
std::vector<fs::path> event_files(const std::string& folder) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec))
    if (e.is_regular_file() && e.path().filename().string().rfind(kPrefix, 0) == 0 &&
        e.path().extension() != ".tmp")
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// events.out.tfevents.<10-digit seconds>.<host>.dg: the seconds are now, or one past the newest
// file's when that is not older (two launches in one second still sort in launch order).
std::string new_event_file_name(const std::string& folder) {
  long long seconds = static_cast<long long>(unix_time());
  for (const fs::path& p : event_files(folder)) {
    const std::string name = p.filename().string();
    seconds = std::max(seconds, std::atoll(name.c_str() + std::strlen(kPrefix)) + 1);
  }
  char host[256] = "localhost";
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  host[sizeof host - 1] = 0;
  char name[400];
  std::snprintf(name, sizeof name, "%s%010lld.%s.dg", kPrefix, seconds, host);
  return name;
}

// The varint at p, p moved past it; false when it runs past end.
bool read_varint(const unsigned char*& p, const unsigned char* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const unsigned char byte = *p++;
    v |= uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

}  // namespace

EventFile::EventFile(const std::string& folder, int64_t start_step)
    : path_((fs::path(folder) / new_event_file_name(folder)).string()) {
  f_.open(path_, std::ios::binary);
  DG_CHECK(f_.good(), "cannot write ", path_);
  write_event(0, Proto().bytes(3, "brain.Event:2").b);
  write_event(start_step, Proto().message(7, Proto().int64(1, 1)).b);  // SessionLog { status: START }
}

void EventFile::write_event(int64_t step, const std::string& what) {
  Proto event;
  event.f64(1, unix_time()).int64(2, step);
  event.b += what;
  f_ << tfrecord(event.b);
  f_.flush();  // a watching TensorBoard sees each event at once
  DG_CHECK(f_.good(), "cannot append to ", path_, " (disk full?)");
}

void EventFile::scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  Proto summary;
  for (const auto& [tag, v] : values) summary.message(1, Proto().bytes(1, tag).f32(2, float(v)));
  write_event(step, Proto().message(5, summary).b);
}

void EventFile::image(int64_t step, const std::string& tag, const std::string& png, int width, int height,
                      int channels) {
  DG_CHECK(channels == 1 || channels == 3, "EventFile::image: ", channels, " channels (1 or 3)");
  const Proto image = Proto().int64(1, height).int64(2, width).int64(3, channels).bytes(4, png);
  write_event(step, Proto().message(5, Proto().message(1, Proto().bytes(1, tag).message(4, image))).b);
}

void EventFile::text(int64_t step, const std::string& tag, const std::string& markdown) {
  const Proto metadata = Proto().message(1, Proto().bytes(1, "text"));  // plugin_data { plugin_name: "text" }
  Proto tensor = Proto().int64(1, 7);  // DT_STRING
  tensor.key(2, 2);
  tensor.varint(0);  // tensor_shape {} : a scalar
  tensor.bytes(8, markdown);
  const Proto value = Proto().bytes(1, tag).message(9, metadata).message(8, tensor);
  write_event(step, Proto().message(5, Proto().message(1, value)).b);
}

int64_t event_step(const std::string& event) {
  const auto* p = reinterpret_cast<const unsigned char*>(event.data());
  const unsigned char* end = p + event.size();
  int64_t step = 0;
  while (p < end) {
    uint64_t key = 0, v = 0;
    if (!read_varint(p, end, key)) return -1;
    switch (key & 7) {
      case 0:
        if (!read_varint(p, end, v)) return -1;
        if (key >> 3 == 2) step = int64_t(v);
        break;
      case 1:
        if (end - p < 8) return -1;
        p += 8;
        break;
      case 2:
        if (!read_varint(p, end, v) || v > uint64_t(end - p)) return -1;
        p += v;
        break;
      case 5:
        if (end - p < 4) return -1;
        p += 4;
        break;
      default:
        return -1;
    }
  }
  return step;
}

std::string tidy_events_for_resume(const std::string& folder, int64_t step) {
  std::string said;
  for (const fs::path& p : event_files(folder)) {
    const TfRecords file = read_tfrecords(p.string());
    std::string kept;
    size_t dropped = 0;
    for (const std::string& r : file.records) {
      const int64_t s = event_step(r);
      if (s >= 0 && s <= step)
        kept += tfrecord(r);
      else
        dropped++;
    }
    if (dropped == 0 && !file.torn) continue;
    const fs::path tmp = p.string() + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary);
      f << kept;
      DG_CHECK(f.good(), "cannot write ", tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, p, ec);
    DG_CHECK(!ec, "cannot write ", p.string(), ": ", ec.message());
    said += (said.empty() ? "" : "; ") + p.filename().string() + ": dropped " + std::to_string(dropped) +
            " event(s) after step " + std::to_string(step) + (file.torn ? " and a torn last record" : "");
  }
  return said;
}

}  // namespace dg
