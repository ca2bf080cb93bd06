// safetensors: round trip, the golden file's header, and every way a file can be broken.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "engine/param_io.h"
#include "kernels/random/random.h"
#include "engine/safetensors.h"

using namespace dg;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("dg_st_" + std::to_string(::getpid()) + "_" + std::to_string(rand()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
std::string with_header(const std::string& json, const std::string& data) {
  std::string s(8, '\0');
  uint64_t n = json.size();
  std::memcpy(s.data(), &n, 8);
  return s + json + data;
}
}  // namespace

TEST_CASE("safetensors round trip with metadata, atomically replaced") {
  TempDir dir;
  const std::string path = (dir.path / "a.safetensors").string();
  SafeTensors st;
  st.tensors["w"] = {{2, 3}, {1, 2, 3, 4, 5, 6}};
  st.tensors["b"] = {{1}, {-0.5f}};
  st.metadata["step"] = "42";
  write_safetensors(path, st);
  SafeTensors back = read_safetensors(path);
  CHECK(back.at("w").shape == std::vector<int64_t>{2, 3});
  CHECK(back.at("w").data == st.tensors["w"].data);
  CHECK(back.at("b").data[0] == -0.5f);
  CHECK(back.meta("step") == "42");
  CHECK(back.checksummed);
  CHECK(back.metadata.size() == 1);  // the checksums are checked, not handed out
  CHECK_FALSE(fs::exists(path + ".tmp"));
  st.metadata["step"] = "43";
  write_safetensors(path, st);  // replaces
  CHECK(read_safetensors(path).meta("step") == "43");
}

TEST_CASE("safetensors F64 tensors keep every bit, next to F32 ones") {
  TempDir dir;
  const std::string path = (dir.path / "s.safetensors").string();
  SafeTensors st;
  StTensor mean;
  mean.shape = {3};
  mean.f64 = true;
  mean.data64 = {0.1, -1e-300, 1.0 / 3.0};  // none of these is a float32
  st.tensors["mean"] = mean;
  st.tensors["w"] = {{1}, {2.5f}};
  write_safetensors(path, st);
  const SafeTensors back = read_safetensors(path);
  REQUIRE(back.at("mean").f64);
  CHECK(back.at("mean").data64 == mean.data64);
  CHECK(back.at("mean").data.empty());
  CHECK_FALSE(back.at("w").f64);
  CHECK(back.at("w").data[0] == 2.5f);
  // An F64 entry whose byte count is that of F32 is refused.
  CHECK_THROWS_WITH_AS(parse_safetensors(with_header(R"({"m":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})",
                                                    std::string(8, '\0')),
                                         "x.st"),
                       doctest::Contains("8 bytes for 2 elements of F64"), Error);
}

TEST_CASE("ParamStore state and moments through safetensors") {
  Context ctx;
  ParamStore a, b;
  for (ParamStore* s : {&a, &b}) {
    s->add("main.0.weight", {3, 2, 2, 2}, ParamKind::conv_weight);
    s->add("main.1.weight", {3}, ParamKind::bn_weight);
    s->add("main.1.running_mean", {3}, ParamKind::running_mean);
    s->allocate(ctx);
  }
  init_parameters(ctx, a, 1, 0);
  fill_normal(ctx, a.exp_avg(), 0, 1, 2, 0);
  fill_normal(ctx, a.buffers(), 0, 1, 3, 0);
  SafeTensors st;
  save_store(ctx, a, StorePart::state, "G.", st);
  save_store(ctx, a, StorePart::exp_avg, "G.adam.m.", st);
  CHECK(st.has("G.main.1.running_mean"));
  CHECK_FALSE(st.has("G.adam.m.main.1.running_mean"));
  load_store(ctx, b, StorePart::state, "G.", st);
  load_store(ctx, b, StorePart::exp_avg, "G.adam.m.", st);
  for (const ParamView& v : a.views()) {
    if (!v.trainable()) continue;
    for (int64_t i = 0; i < v.shape.numel(); i++) {
      CHECK(a.params().data[v.offset + i] == b.params().data[v.offset + i]);
      CHECK(a.exp_avg().data[v.offset + i] == b.exp_avg().data[v.offset + i]);
    }
  }
  CHECK(a.buffer("main.1.running_mean").data[2] == b.buffer("main.1.running_mean").data[2]);
  st.tensors["G.main.0.weight"].shape = {3, 2, 4};
  CHECK_THROWS_WITH_AS(load_store(ctx, b, StorePart::state, "G.", st),
                       doctest::Contains("'G.main.0.weight' has the wrong shape"), dg::Error);
  st.tensors["G.main.0.weight"].shape = {3, 2, 2, 2};
  st.tensors.erase("G.main.1.weight");
  CHECK_THROWS_WITH_AS(load_store(ctx, b, StorePart::state, "G.", st), doctest::Contains("G.main.1.weight"), dg::Error);
}

TEST_CASE("broken safetensors files are refused with the reason") {
  TempDir dir;
  const std::string path = (dir.path / "c.safetensors").string();
  SafeTensors st;
  st.tensors["w"] = {{4}, {1, 2, 3, 4}};
  write_safetensors(path, st);
  const std::string good = slurp(path);
  // Truncated: every prefix shorter than the whole file must fail, never crash.
  for (size_t n : {size_t(0), size_t(5), size_t(8), size_t(20), good.size() - 1}) {
    CAPTURE(n);
    CHECK_THROWS_AS(parse_safetensors(good.substr(0, n), "c"), dg::Error);
  }
  CHECK_THROWS_WITH_AS(parse_safetensors(good.substr(0, good.size() - 1), "c"), doctest::Contains("truncated"),
                       dg::Error);
  CHECK_THROWS_WITH_AS(parse_safetensors(with_header("{not json", ""), "c"), doctest::Contains("not valid JSON"),
                       dg::Error);
  CHECK_THROWS_WITH_AS(
      parse_safetensors(with_header(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "abcd"), "c"),
      doctest::Contains("dtype F16"), dg::Error);
  CHECK_THROWS_WITH_AS(
      parse_safetensors(with_header(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "abcdefgh"), "c"),
      doctest::Contains("8 bytes for 3 elements"), dg::Error);
  CHECK_THROWS_WITH_AS(parse_safetensors(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                                     "abcdefgh"),
                                         "c"),
                       doctest::Contains("overlap"), dg::Error);
  CHECK_THROWS_WITH_AS(parse_safetensors(with_header(R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],)"
                                                     R"("data_offsets":[0,4]}})",
                                                     "abcd"),
                                         "c"),
                       doctest::Contains("impossibly large"), dg::Error);
  // A header length far beyond the file.
  std::string huge = good;
  huge[7] = '\x7f';
  CHECK_THROWS_WITH_AS(parse_safetensors(huge, "c"), doctest::Contains("exceeds"), dg::Error);
  CHECK_THROWS_WITH_AS(read_safetensors((dir.path / "missing").string()), doctest::Contains("cannot open"), dg::Error);
}

TEST_CASE("every single-bit flip anywhere in a checksummed file is refused, naming the tensor it hit") {
  TempDir dir;
  const std::string path = (dir.path / "f.safetensors").string();
  SafeTensors st;
  st.tensors["a"] = {{2, 2}, {1.5f, -2, 0, 1e-30f}};
  st.tensors["b"] = {{3}, {7, 8, 9}};
  st.tensors["d"] = {{2}, {}, true, {0.25, -1e300}};
  st.metadata["step"] = "6";
  st.metadata["config"] = R"({"lr_g": 0.0002})";
  write_safetensors(path, st);
  const std::string good = slurp(path);
  REQUIRE(parse_safetensors(good, "f").checksummed);
  uint64_t header_len = 0;
  std::memcpy(&header_len, good.data(), 8);
  const size_t data_begin = 8 + header_len;
  int refused = 0, flips = 0;
  for (size_t at = 0; at < good.size(); at++)
    for (int bit = 0; bit < 8; bit++) {
      std::string bad = good;
      bad[at] = char(bad[at] ^ (1 << bit));
      flips++;
      try {
        parse_safetensors(bad, "f");
        MESSAGE("a flip of bit ", bit, " of byte ", at, " was not noticed");
      } catch (const dg::Error& e) {
        refused++;
        // In the data: the tensor whose bytes changed is named (a: [0, 16), b: [16, 28), d: [28, 44)).
        if (at >= data_begin) {
          const size_t off = at - data_begin;
          const std::string name = off < 16 ? "a" : off < 28 ? "b" : "d";
          CHECK_MESSAGE(std::string(e.what()).find("tensor '" + name + "' fails its checksum") != std::string::npos,
                        "byte ", at, ": ", e.what());
        }
      }
    }
  CHECK(refused == flips);
}

TEST_CASE("a file without checksums (an older dg's, or another writer's) loads unverified") {
  const std::string data(8, '\0');
  SafeTensors st =
      parse_safetensors(with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"step":"3"}})", data),
                        "old");
  CHECK_FALSE(st.checksummed);
  CHECK(st.at("w").data == std::vector<float>{0, 0});
  CHECK(st.meta("step") == "3");
  // A checksums entry that is not dg's kind is damage, not absence.
  CHECK_THROWS_WITH_AS(
      parse_safetensors(with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                    R"("__metadata__":{"dg_checksums":"{\"algorithm\":\"md5\"}"}})",
                                    data),
                        "x"),
      doctest::Contains("x: the checksums entry (metadata 'dg_checksums') is damaged or of an unknown kind"), dg::Error);
}

TEST_CASE("a write into a missing folder fails and leaves nothing behind") {
  TempDir dir;
  SafeTensors st;
  st.tensors["w"] = {{1}, {1}};
  CHECK_THROWS_WITH_AS(write_safetensors((dir.path / "no" / "x.safetensors").string(), st),
                       doctest::Contains("cannot create"), dg::Error);
}
