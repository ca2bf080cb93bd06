// Watching a run: TensorBoard event files read back by TensorBoard itself, the events of a
// resumed run, dashboard.png, float settings printed as written, and error locations
// relative to the source tree.
#include <doctest/doctest.h>

#include <stb/stb_image.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "tests/eval_fixture.h"
#include "tools/run/json_number.h"
#include "tools/run/tb_events.h"
#include "tools/run/tfrecord.h"

namespace fs = std::filesystem;
using namespace dg::test;

namespace {

const std::string kTestsDir = fs::path(DG_TEST_DATA_DIR).parent_path().string();

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') v.push_back(nlohmann::json::parse(line));
  return v;
}

// What TensorBoard's own loader reads from a run folder (tests/read_events.py), or nothing
// with a SKIPPED message when the tensorboard package is missing.
bool read_with_tensorboard(const std::string& run, std::vector<nlohmann::json>& out) {
  const Result r = run_binary("python3", "", kTestsDir + "/read_events.py " + run);
  if (r.code == 3) {
    MESSAGE("SKIPPED: python3 with the tensorboard package is not installed (python3 -m pip install tensorboard)");
    return false;
  }
  INFO(r.output.substr(0, 4000));
  REQUIRE(r.code == 0);
  out = json_lines(r.output);
  return true;
}

// scalars[tag][step] = value; each (tag, step) must appear once.
std::map<std::string, std::map<int64_t, double>> scalars_of(const std::vector<nlohmann::json>& events) {
  std::map<std::string, std::map<int64_t, double>> s;
  for (const auto& e : events)
    if (e.contains("scalar")) {
      const std::string tag = e["scalar"];
      const int64_t step = e["step"];
      INFO(tag, " step ", step);
      CHECK(s[tag].count(step) == 0);
      s[tag][step] = e["value"];
    }
  return s;
}

// Every training line of metrics.jsonl against the scalars: the same float32 values.
// lr_decay_total: the run's total steps under --lr-decay linear (0: a constant rate).
void check_train_scalars(const std::map<std::string, std::map<int64_t, double>>& s, const std::string& metrics,
                         int64_t steps, int64_t lr_decay_total = 0) {
  int lines = 0;
  for (const auto& m : json_lines(read_text(metrics))) {
    if (!m.contains("g_loss")) continue;
    lines++;
    const int64_t step = m["step"];
    INFO("step ", step);
    auto at = [&](const std::string& tag) {
      REQUIRE(s.count(tag));
      REQUIRE(s.at(tag).count(step));
      return s.at(tag).at(step);
    };
    CHECK(float(at("loss/G")) == float(m["g_loss"].get<double>()));
    double selections = 0;
    for (double n : m["selected"]) selections += n;
    for (size_t i = 0; i < m["d_real"].size(); i++) {
      const std::string d = "D" + std::to_string(i);
      CHECK(float(at("loss/" + d + "_real")) == float(m["d_real"][i].get<double>()));
      CHECK(float(at("loss/" + d + "_fake")) == float(m["d_fake"][i].get<double>()));
      CHECK(float(at("selection/" + d)) == float(m["selected"][i].get<double>() / selections));
    }
    CHECK(float(at("perf/img_per_s")) == float(m["img_per_s"].get<double>()));
    // The rate of the step's own Adam update (0-based index step - 1), as gan_trainer.cpp computes it.
    const float lr = lr_decay_total ? 0.0002f * float(1.0 - double(step - 1) / double(lr_decay_total)) : 0.0002f;
    CHECK(float(at("lr/G")) == lr);
    CHECK(float(at("lr/D")) == lr);
  }
  CHECK(lines == steps);
  for (const auto& [tag, points] : s)
    if (tag.rfind("eval/", 0) != 0) CHECK(int64_t(points.size()) == steps);
}

std::vector<unsigned char> png_pixels(const std::string& path, int& w, int& h, int& c) {
  unsigned char* p = stbi_load(path.c_str(), &w, &h, &c, 0);
  REQUIRE(p != nullptr);
  std::vector<unsigned char> v(p, p + size_t(w) * h * c);
  stbi_image_free(p);
  return v;
}

}  // namespace

TEST_CASE("TensorBoard reads back every scalar, sample grid and the config of a dgtrain run") {
  Fixture fx;
  const std::string out = fx.dir.path.string() + "/runs", run = out + "/tb";
  const Result t = dgtrain(tiny(out, "tb") + " --data " + fx.data + " --steps 6 --eval-every 3 --eval-samples 40" +
                           " --eval-features " + fx.classifier + " --lr-decay linear");
  INFO(t.output);
  REQUIRE(t.code == 0);
  std::vector<nlohmann::json> events;
  if (!read_with_tensorboard(run, events)) return;

  const auto s = scalars_of(events);
  std::set<std::string> tags;
  for (const auto& [tag, points] : s) tags.insert(tag);
  const std::set<std::string> expected = {"loss/G",        "loss/D0_real",   "loss/D0_fake",  "loss/D1_real",
                                          "loss/D1_fake",  "selection/D0",   "selection/D1",  "perf/img_per_s",
                                          "lr/G",          "lr/D",           "eval/fid",      "eval/is",
                                          "eval/is_std",   "eval/best_fid",  "eval/seconds"};
  CHECK(tags == expected);
  check_train_scalars(s, run + "/metrics.jsonl", 6, 6);
  int evals = 0;
  for (const auto& m : json_lines(read_text(run + "/metrics.jsonl")))
    if (m.contains("fid")) {
      evals++;
      const int64_t step = m["step"];
      CHECK(float(s.at("eval/fid").at(step)) == float(m["fid"].get<double>()));
      CHECK(float(s.at("eval/is").at(step)) == float(m["is"].get<double>()));
      CHECK(float(s.at("eval/best_fid").at(step)) == float(m["best_fid"].get<double>()));
    }
  CHECK(evals == 2);

  // The sample grids: TensorBoard's image at steps 2, 4, 6 decodes to samples/step_*.png.
  std::set<int64_t> image_steps;
  for (const auto& e : events)
    if (e.contains("image")) {
      const int64_t step = e["step"];
      image_steps.insert(step);
      char name[64];
      std::snprintf(name, sizeof name, "/samples/step_%06lld.png", static_cast<long long>(step));
      int w = 0, h = 0, c = 0;
      const std::vector<unsigned char> file = png_pixels(run + name, w, h, c);
      CHECK(e["image"] == "samples");
      CHECK(e["width"] == w);
      CHECK(e["height"] == h);
      CHECK(e["channels"] == c);
      CHECK(e["pixels"].get<std::vector<unsigned char>>() == file);
    }
  CHECK(image_steps == std::set<int64_t>{2, 4, 6});

  // The resolved config as text, float32 settings as written.
  int texts = 0;
  for (const auto& e : events)
    if (e.contains("text")) {
      texts++;
      CHECK(e["text"] == "config");
      const std::string md = e["value"];
      CHECK(md.find("\"lr_g\": 0.0002,") != std::string::npos);
      CHECK(md.find("\"eval_every\": 3,") != std::string::npos);
    }
  CHECK(texts == 1);
}

TEST_CASE("a resumed run's events do not double back, and a torn last event is dropped") {
  TempDir dir;
  write_idx_gz((dir.path / "idx").string(), 40);
  const std::string out = (dir.path / "runs").string(), run = out + "/r";
  Result r = dgtrain(tiny(out, "r") + " --data " + (dir.path / "idx").string() + " --steps 6 --checkpoint-every 2");
  INFO(r.output);
  REQUIRE(r.code == 0);
  // As if killed during step 6's checkpoint, in the middle of writing an event.
  fs::remove(run + "/checkpoints/step_000006.safetensors");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(run))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) files.push_back(e.path());
  REQUIRE(files.size() == 1);
  {
    std::ofstream f(files[0], std::ios::app | std::ios::binary);
    f << dg::tfrecord(std::string(100, 'x')).substr(0, 50);
  }
  r = dgtrain("--resume " + run + " --steps 8");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("dropped 3 event(s) after step 4 and a torn last record") != std::string::npos);

  // dg's own reading: the first file ends at step 4, intact; the second starts after it.
  std::vector<fs::path> now;
  for (const auto& e : fs::directory_iterator(run))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) now.push_back(e.path());
  std::sort(now.begin(), now.end());
  REQUIRE(now.size() == 2);
  CHECK(now[0] == files[0]);
  const dg::TfRecords first = dg::read_tfrecords(now[0].string()), second = dg::read_tfrecords(now[1].string());
  CHECK(!first.torn);
  CHECK(!second.torn);
  int64_t first_max = 0, second_min = 1 << 30;
  for (const std::string& e : first.records) first_max = std::max(first_max, dg::event_step(e));
  for (size_t i = 2; i < second.records.size(); i++)  // (after its file version and START)
    second_min = std::min(second_min, dg::event_step(second.records[i]));
  CHECK(first_max == 4);
  CHECK(second_min == 4);  // the config of the launch, at the step it resumed from

  std::vector<nlohmann::json> events;
  if (!read_with_tensorboard(run, events)) return;
  check_train_scalars(scalars_of(events), run + "/metrics.jsonl", 8);
}

TEST_CASE("dgtrain writes dashboard.png, and tools/dgplot.py overlays several runs") {
  const Result probe = run_binary("python3", "", "-c 'import matplotlib'");
  if (probe.code != 0) {
    MESSAGE("SKIPPED: python3 with matplotlib is not installed (python3 -m pip install matplotlib)");
    return;
  }
  TempDir dir;
  write_idx_gz((dir.path / "idx").string(), 40);
  const std::string out = (dir.path / "runs").string(), data = " --data " + (dir.path / "idx").string();
  std::string with_dashboard = tiny(out, "a");
  with_dashboard.replace(with_dashboard.find("--dashboard off"), 15, "--dashboard on");
  Result r = dgtrain(with_dashboard + data + " --steps 4");
  INFO(r.output);
  REQUIRE(r.code == 0);
  r = dgtrain(tiny(out, "b") + data + " --steps 4 --discriminators 1");
  REQUIRE(r.code == 0);
  CHECK(!fs::exists(out + "/b/dashboard.png"));  // --dashboard off (tiny)
  const std::string dgplot = (fs::path(DG_DGTRAIN).parent_path() / "dgplot.py").string();
  r = run_binary("python3", "", dgplot + " " + out + "/a " + out + "/b -o " + out + "/both.png");
  INFO(r.output);
  REQUIRE(r.code == 0);
  for (const std::string& png : {out + "/a/dashboard.png", out + "/both.png"}) {
    int w = 0, h = 0, c = 0;
    const std::vector<unsigned char> px = png_pixels(png, w, h, c);
    CHECK(w == 960);
    CHECK(h == 640);
    int64_t dark = 0;  // lines, text and axes: not a blank page
    for (size_t i = 0; i < px.size(); i += size_t(c)) dark += px[i] < 128;
    CHECK(dark > 5000);
  }
  r = run_binary("python3", "", dgplot + " " + out + "/a " + out + "/b");
  CHECK(r.code != 0);
  CHECK(r.output.find("several runs need -o") != std::string::npos);
}

TEST_CASE("TFRecord framing: CRC-32C check values, masked CRCs, torn and damaged records") {
  CHECK(dg::crc32c("123456789", 9) == 0xE3069283u);
  const std::string zeros(32, '\0');
  CHECK(dg::crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);  // RFC 3720 B.4
  const uint32_t c = dg::crc32c("abc", 3);
  CHECK(dg::masked_crc32c("abc", 3) == ((c >> 15) | (c << 17)) + 0xa282ead8u);
  TempDir dir;
  const std::string p = (dir.path / "f").string();
  const std::string a = dg::tfrecord("first"), b = dg::tfrecord(std::string(300, 'b'));
  CHECK(a.size() == 16 + 5);
  write_file(p, Bytes(a.begin(), a.end()));
  dg::TfRecords got = dg::read_tfrecords(p);
  CHECK(got.records == std::vector<std::string>{"first"});
  CHECK(!got.torn);
  for (size_t cut = 1; cut < b.size(); cut += 37) {  // cut anywhere in the second record
    const std::string both = a + b.substr(0, cut);
    write_file(p, Bytes(both.begin(), both.end()));
    got = dg::read_tfrecords(p);
    CHECK(got.records.size() == 1);
    CHECK(got.torn);
  }
  std::string damaged = a + b;
  damaged[a.size() + 100] ^= 1;  // a bit of the second record's data
  write_file(p, Bytes(damaged.begin(), damaged.end()));
  got = dg::read_tfrecords(p);
  CHECK(got.records.size() == 1);
  CHECK(got.torn);
}

TEST_CASE("event_step reads an Event's step, and refuses what is not a message") {
  TempDir dir;
  {
    dg::EventFile f(dir.path.string(), 7);
    f.scalars(123456789012, {{"x", 1.5}});
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir.path)) files.push_back(e.path());
  REQUIRE(files.size() == 1);
  const dg::TfRecords r = dg::read_tfrecords(files[0].string());
  REQUIRE(r.records.size() == 3);
  CHECK(dg::event_step(r.records[0]) == 0);  // the file version
  CHECK(dg::event_step(r.records[1]) == 7);  // START
  CHECK(dg::event_step(r.records[2]) == 123456789012);
  CHECK(dg::event_step(r.records[2].substr(0, r.records[2].size() - 1)) == -1);  // cut short
  CHECK(dg::event_step(std::string("\x0f", 1)) == -1);                           // wire type 7
  // A second file in the same second still sorts after the first.
  { dg::EventFile g(dir.path.string(), 0); }
  files.clear();
  for (const auto& e : fs::directory_iterator(dir.path)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() == 2);
  CHECK(dg::read_tfrecords(files[1].string()).records.size() == 2);
}

TEST_CASE("float32 settings and losses are written as their shortest decimals") {
  std::mt19937 rng(5);
  for (int i = 0; i < 200000; i++) {
    uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, 4);
    if (!std::isfinite(f)) continue;
    REQUIRE(float(dg::shortest_decimal(f)) == f);
  }
  CHECK(nlohmann::json(dg::shortest_decimal(0.0002f)).dump() == "0.0002");
  CHECK(nlohmann::json(dg::shortest_decimal(0.999f)).dump() == "0.999");
  CHECK(nlohmann::json(dg::shortest_decimal(1e-8f)).dump() == "1e-08");
  TempDir dir;
  write_idx_gz((dir.path / "idx").string(), 20);
  const std::string out = (dir.path / "runs").string();
  const Result r = dgtrain(tiny(out, "f") + " --data " + (dir.path / "idx").string() +
                           " --steps 2 --lr-d 0.0003 --beta2 0.999 --label-smooth 0.1");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const std::string config = read_text(out + "/f/config.json");
  for (const char* s : {"\"lr_g\": 0.0002,", "\"lr_d\": 0.0003,", "\"beta1\": 0.5,", "\"beta2\": 0.999,",
                        "\"adam_eps\": 1e-08,", "\"label_smooth\": 0.1,"})
    CHECK_MESSAGE(config.find(s) != std::string::npos, s);
  // The losses in metrics.jsonl as written: their shortest decimals, not 0.69314718246459961.
  int lines = 0;
  for (const auto& m : json_lines(read_text(out + "/f/metrics.jsonl"))) {
    lines++;
    std::vector<nlohmann::json> values = {m["g_loss"]};
    for (const char* key : {"d_real", "d_fake"})
      for (const auto& v : m[key]) values.push_back(v);
    for (const auto& v : values) CHECK(nlohmann::json(dg::shortest_decimal(float(v.get<double>()))).dump() == v.dump());
  }
  CHECK(lines == 2);
}

TEST_CASE("error messages name their check relative to the source tree") {
  const std::string root = fs::path(kTestsDir).parent_path().string();
  try {
    DG_FAIL("planted");
  } catch (const dg::Error& e) {
    const std::string m = e.what();
    CHECK(m.find(" [tests/test_watch.cpp:") != std::string::npos);
    CHECK(m.find(root) == std::string::npos);
  }
  const Result r = dgtrain("--resume " + root + "/no-such-run --steps 2");
  CHECK(r.code != 0);
  CHECK(r.output.find("[tools/") != std::string::npos);
  CHECK(r.output.find(root + "/tools") == std::string::npos);
}
