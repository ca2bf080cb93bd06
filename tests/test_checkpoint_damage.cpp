// Checkpoints written by dgtrain, then damaged on purpose (tests/damage.h): a resume finds
// each fault, keeps the damaged file as *.damaged, starts from the newest intact checkpoint
// and from there repeats the uninterrupted run bit for bit; with none intact it refuses,
// listing each file and its fault, and changes nothing. Older files without checksums load
// with a note; other readers of safetensors still load dg's files.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/damage.h"
#include "tests/dgtrain_runner.h"
#include "tools/run/train_options.h"

using namespace dg::test;

namespace {

// K = 2, a checkpoint every 2 steps: "whole" runs 8 steps; "base" stops after 6 (checkpoints
// 2, 4 and 6), the run every case copies, damages and resumes to step 8.
struct Runs {
  TempDir dir;
  std::string flags;
  Runs() {
    write_idx_gz(dir / "idx", 20);
    flags = "--data " + (dir / "idx") + " --discriminators 2 --checkpoint-every 2 ";
    Result whole = dgtrain(flags + "--steps 8 " + tiny(dir / "runs", "whole"));
    INFO(whole.output);
    REQUIRE(whole.code == 0);
    Result base = dgtrain(flags + "--steps 6 " + tiny(dir / "runs", "base"));
    INFO(base.output);
    REQUIRE(base.code == 0);
  }
  // A fresh copy of the base run.
  std::string copy(const std::string& name) const {
    const std::string to = dir / ("cases/" + name);
    fs::create_directories(to);
    fs::copy(dir / "runs/base", to, fs::copy_options::recursive);
    return to;
  }
  std::string checkpoint(const std::string& run, int step) const {
    char name[64];
    std::snprintf(name, sizeof name, "/checkpoints/step_%06d.safetensors", step);
    return run + name;
  }
};

// The steps of metrics.jsonl's lines, in order.
std::vector<int64_t> logged_steps(const std::string& run) {
  std::vector<int64_t> steps;
  std::ifstream f(run + "/metrics.jsonl");
  for (std::string line; std::getline(f, line);) steps.push_back(nlohmann::json::parse(line)["step"].get<int64_t>());
  return steps;
}

}  // namespace

TEST_CASE("a damaged newest checkpoint: the resume starts from the newest intact one, keeps the damaged file, and "
          "repeats the uninterrupted run") {
  Runs runs;
  const std::string other_run = runs.checkpoint(runs.dir / "runs/whole", 6);
  std::string wide_flags = tiny(runs.dir / "runs", "wide");
  wide_flags.replace(wide_flags.find("--ngf 4"), 7, "--ngf 8");
  Result wide = dgtrain(runs.flags + "--steps 6 " + wide_flags);
  REQUIRE(wide.code == 0);
  const std::string other_arch = runs.checkpoint(runs.dir / "runs/wide", 6);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();

  struct Case {
    std::string name;
    std::function<void(const std::string&)> damage;  // of step_000006
    std::string why;                                 // what the resume must say
  };
  const std::vector<Case> cases = {
      {"a bit of the header: the step 6 reads 7",
       [](const std::string& p) { flip_bit(p, header_offset_of(p, "\"step\":\"6\"") + 8, 0); },
       "the header fails its checksum"},
      {"a bit of G's weights",
       [](const std::string& p) { flip_bit(p, tensor_middle(p, "main.0.weight"), 3); },
       "tensor 'main.0.weight' fails its checksum"},
      {"a bit of D1's weights",
       [](const std::string& p) { flip_bit(p, tensor_middle(p, "D1.main.0.weight"), 6); },
       "tensor 'D1.main.0.weight' fails its checksum"},
      {"a bit of an Adam moment of D0",
       [](const std::string& p) { flip_bit(p, tensor_middle(p, tensor_named(p, "adam.D0.exp_avg_sq.", "weight")), 7); },
       "adam.D0.exp_avg_sq."},
      {"truncated", [](const std::string& p) { fs::resize_file(p, fs::file_size(p) * 2 / 3); }, "truncated"},
      {"a header length of 2^40",
       [](const std::string& p) {
         Bytes b = read_bytes(p);
         const uint64_t n = uint64_t(1) << 40;
         std::memcpy(b.data(), &n, 8);
         write_file(p, b);
       },
       "header length 1099511627776 exceeds"},
      {"NaN in a weight of G (checksums made to match)",
       [&](const std::string& p) { set_value(p, "main.0.weight", 5, nan); }, "tensor 'main.0.weight' holds NaN at element 5"},
      {"+Inf in a running variance of D1 (checksums made to match)",
       [&](const std::string& p) { set_value(p, tensor_named(p, "D1.", "running_var"), 0, inf); }, "holds +Inf at element 0"},
      {"NaN in an Adam moment of G (checksums made to match)",
       [&](const std::string& p) { set_value(p, tensor_named(p, "adam.G.exp_avg.", "weight"), 1, nan); },
       "holds NaN at element 1"},
      {"the step 6 of another run with the same model",
       [&](const std::string& p) { fs::copy_file(other_run, p, fs::copy_options::overwrite_existing); },
       "belongs to another run: its settings differ from this run's config.json in run_name (\"whole\" vs \"base\")"},
      {"the step 6 of a run with a wider generator",
       [&](const std::string& p) { fs::copy_file(other_arch, p, fs::copy_options::overwrite_existing); },
       "ngf (8 vs 4)"},
  };
  int i = 0;
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const std::string run = runs.copy("case" + std::to_string(i++));
    const std::string newest = runs.checkpoint(run, 6);
    c.damage(newest);
    Result r = dgtrain("--resume " + run + " --steps 8");
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find(newest + " is damaged: ") != std::string::npos);
    CHECK(r.output.find(c.why) != std::string::npos);
    CHECK(r.output.find("kept as " + newest + ".damaged; resuming from " + runs.checkpoint(run, 4) + " (step 4)") !=
          std::string::npos);
    CHECK(r.output.find("resuming " + run + " from step 4") != std::string::npos);
    CHECK(fs::exists(newest + ".damaged"));
    // The lines logged after step 4 were dropped and logged again: each step once, in order.
    CHECK(logged_steps(run) == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8});
    check_same_checkpoint(runs.checkpoint(runs.dir / "runs/whole", 8), runs.checkpoint(run, 8));
  }
  // Damaged again, the two newest: step 6's kept name is taken, so the next one is used.
  const std::string run = runs.dir / "cases/case0", six = runs.checkpoint(run, 6), eight = runs.checkpoint(run, 8);
  flip_bit(six, tensor_middle(six, "main.0.weight"), 0);
  flip_bit(eight, tensor_middle(eight, "main.0.weight"), 0);
  Result again = dgtrain("--resume " + run + " --steps 8");
  INFO(again.output);
  REQUIRE(again.code == 0);
  CHECK(again.output.find("kept as " + eight + ".damaged; resuming from " + runs.checkpoint(run, 4)) != std::string::npos);
  CHECK(again.output.find("kept as " + six + ".damaged.2; resuming from " + runs.checkpoint(run, 4)) != std::string::npos);
  for (const std::string& kept : {six + ".damaged", six + ".damaged.2", eight + ".damaged"}) CHECK(fs::exists(kept));
  CHECK(logged_steps(run) == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8});
  check_same_checkpoint(runs.checkpoint(runs.dir / "runs/whole", 8), eight);
}

TEST_CASE("no intact checkpoint: the resume refuses, lists every file and its fault, and renames nothing") {
  Runs runs;
  const std::string run = runs.copy("all-damaged");
  flip_bit(runs.checkpoint(run, 2), tensor_middle(runs.checkpoint(run, 2), "D0.main.0.weight"), 1);
  fs::resize_file(runs.checkpoint(run, 4), 100);
  set_value(runs.checkpoint(run, 6), "main.0.weight", 0, -std::numeric_limits<float>::infinity());
  const auto before = read_bytes(runs.checkpoint(run, 6));
  Result r = dgtrain("--resume " + run + " --steps 8");
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK(r.output.find("no intact checkpoint to resume from (3 damaged, left as they are)") != std::string::npos);
  CHECK(r.output.find(runs.checkpoint(run, 2) + ": tensor 'D0.main.0.weight' fails its checksum") != std::string::npos);
  CHECK(r.output.find(runs.checkpoint(run, 4) + ": header length") != std::string::npos);
  CHECK(r.output.find(runs.checkpoint(run, 6) + ": tensor 'main.0.weight' holds -Inf at element 0") != std::string::npos);
  for (int step : {2, 4, 6}) {
    CHECK(fs::exists(runs.checkpoint(run, step)));
    CHECK_FALSE(fs::exists(runs.checkpoint(run, step) + ".damaged"));
  }
  CHECK(read_bytes(runs.checkpoint(run, 6)) == before);
  CHECK(logged_steps(run) == std::vector<int64_t>{1, 2, 3, 4, 5, 6});  // nothing dropped
}

TEST_CASE("a checkpoint without checksums (an older dg's) resumes with a note, exactly") {
  Runs runs;
  const std::string run = runs.copy("old");
  rewrite_header(runs.checkpoint(run, 6), [](nlohmann::json& h) { h["__metadata__"].erase("dg_checksums"); });
  REQUIRE_FALSE(dg::read_safetensors(runs.checkpoint(run, 6)).checksummed);
  Result r = dgtrain("--resume " + run + " --steps 8");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("note: " + runs.checkpoint(run, 6) + " carries no checksums") != std::string::npos);
  CHECK(r.output.find("from step 6") != std::string::npos);
  CHECK(r.output.find("damaged") == std::string::npos);
  check_same_checkpoint(runs.checkpoint(runs.dir / "runs/whole", 8), runs.checkpoint(run, 8));
  // What dg writes now carries them again.
  CHECK(dg::read_safetensors(runs.checkpoint(run, 8)).checksummed);
}

TEST_CASE("the safetensors package (Python) loads a dg checkpoint, checksums included") {
  Result probe = run_binary("python3", "", "-c 'import safetensors.numpy, numpy'");
  if (probe.code != 0) {
    MESSAGE("SKIPPED: python3 with the safetensors and numpy packages is not installed "
            "(python3 -m pip install safetensors numpy)");
    return;
  }
  TempDir dir;
  write_idx_gz(dir / "idx", 8);
  REQUIRE(dgtrain("--data " + (dir / "idx") + " --steps 1 " + tiny(dir / "runs", "r")).code == 0);
  const std::string ckpt = dir / "runs/r/checkpoints/step_000001.safetensors";
  const dg::SafeTensors st = dg::read_safetensors(ckpt);
  // Python prints every tensor's name, element count and sum, and the metadata keys.
  const std::string script =
      "import sys, safetensors, safetensors.numpy as s\n"
      "t = s.load_file(sys.argv[1])\n"
      "for k in sorted(t): print(k, t[k].size, repr(float(t[k].astype('float64').sum())))\n"
      "with safetensors.safe_open(sys.argv[1], 'np') as f: print('metadata', *sorted(f.metadata()))\n";
  write_file(dir / "read.py", Bytes(script.begin(), script.end()));
  Result py = run_binary("python3", "", (dir / "read.py") + " " + ckpt);
  INFO(py.output);
  REQUIRE(py.code == 0);
  std::istringstream lines(py.output);
  std::string line;
  for (const auto& [name, t] : st.tensors) {
    REQUIRE(std::getline(lines, line));
    double sum = 0, size = 0;
    for (float v : t.data) {
      sum += double(v);
      size += std::fabs(double(v));
    }
    std::istringstream words(line);
    std::string got_name;
    size_t got_size = 0;
    double got_sum = 0;
    words >> got_name >> got_size >> got_sum;
    CHECK(got_name == name);
    CHECK(got_size == t.data.size());
    CHECK(std::fabs(got_sum - sum) <= 1e-12 * (size + 1));  // the same values, summed in another order
  }
  REQUIRE(std::getline(lines, line));
  CHECK(line.find("metadata config dg_checksums discriminators") == 0);
}

TEST_CASE("a checkpoint's run: every setting a resume cannot change, float settings compared as float32") {
  const nlohmann::json run = {{"run_name", "a"}, {"lr_g", 0.0002},  {"seed", 18446744073709551615ull},
                              {"steps", 600},    {"data", "x"},      {"total_steps", 600},
                              {"ngf", 64},       {"eval_every", 0}};
  nlohmann::json same = run;
  same["lr_g"] = 0.00019999999494757503;  // float(0.0002) printed as a double
  same["steps"] = 900;                     // what a resume may change
  same["total_steps"] = 900;
  same["data"] = "y";
  same.erase("eval_every");  // a key an older dg did not record
  CHECK(dg::differing_run_settings(same, run) == "");
  nlohmann::json other = run;
  other["run_name"] = "b";
  other["lr_g"] = 0.0003;
  other["seed"] = 18446744073709551614ull;  // not equal as a float, equal as a double: compared exactly
  CHECK(dg::differing_run_settings(other, run) ==
        "lr_g (0.0003 vs 0.0002), run_name (\"b\" vs \"a\"), seed (18446744073709551614 vs 18446744073709551615)");
}
