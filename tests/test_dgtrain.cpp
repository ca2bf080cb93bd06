// dgtrain end to end, as a user runs it (the real binary in a subprocess): every data
// format on tiny files, bad flags and bad data, resume equal to an uninterrupted run bit
// for bit, refused checkpoints, the NaN stop and checkpoint retention. Kills, signals and
// failed writes: tests/test_crash_safety.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "engine/context.h"
#include "tests/dgtrain_runner.h"

using namespace dg::test;

TEST_CASE("dgtrain trains a few steps on every data format") {
  TempDir dir;
  write_idx_gz(dir / "idx", 16);
  write_file(dir / "cifar/data_batch_1.bin", cifar10_file(12));
  write_file(dir / "svhn/train_32x32.mat", svhn_file(12));
  write_png_folder(dir / "folder", 10, 40);
  struct Case {
    const char* name;
    std::string data;
    int channels;
  };
  for (const Case& c : {Case{"idx", dir / "idx", 1}, Case{"cifar10", dir / "cifar", 3},
                        Case{"svhn", dir / "svhn", 3}, Case{"folder", dir / "folder", 3}}) {
    CAPTURE(c.name);
    Result r = dgtrain("--data " + c.data + " --steps 3 " + tiny(dir / "runs", c.name));
    INFO(r.output);
    REQUIRE(r.code == 0);
    const std::string run = dir / ("runs/" + std::string(c.name));
    CHECK(fs::exists(run + "/config.json"));
    CHECK(count_lines(run + "/metrics.jsonl") == 3);
    CHECK(fs::exists(run + "/samples/step_000002.png"));
    CHECK(fs::exists(run + "/samples/step_000003.png"));
    CHECK(fs::exists(run + "/checkpoints/step_000003.safetensors"));
    std::ifstream cfg(run + "/config.json");
    std::string text((std::istreambuf_iterator<char>(cfg)), std::istreambuf_iterator<char>());
    CHECK(text.find("\"channels\": " + std::to_string(c.channels)) != std::string::npos);
  }
}

TEST_CASE("bad flags name the flag and what it accepts") {
  struct Case {
    std::string args, expect;
  };
  for (const Case& c : {Case{"--batch-size 0", "--batch-size"}, Case{"--g-loss best", "--g-loss"},
                        Case{"--image-size 48", "--image-size"}, Case{"--device tpu", "--device"},
                        Case{"--discriminators 3 --g-loss seed --device cpu", "exactly 2"},
                        Case{"--lr-g 5", "--lr-g"}, Case{"--no-such-flag", "no-such-flag"},
                        Case{"--grad-bucket-mb -1", "--grad-bucket-mb"},
                        Case{"--grad-bucket-mb 1e-9", "less than one byte (0 turns the buckets off)"}}) {
    CAPTURE(c.args);
    Result r = dgtrain(c.args);
    INFO(r.output);
    CHECK(r.code != 0);
    CHECK(r.output.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("missing or corrupt data and an unwritable --out are clear errors") {
  TempDir dir;
  Result missing = dgtrain("--data " + (dir / "nothing-here") + " --steps 1 --device cpu");
  CHECK(missing.code == 1);
  CHECK(missing.output.find("nothing-here") != std::string::npos);
  write_gz(dir / "bad/train-images-idx3-ubyte.gz", idx_file(0x0802, {4, 28, 28}, pattern_bytes(4 * 784)));
  Result bad = dgtrain("--data " + (dir / "bad") + " --steps 1 --device cpu");
  CHECK(bad.code == 1);
  CHECK(bad.output.find("magic") != std::string::npos);
  write_idx_gz(dir / "ok", 8);
  write_file(dir / "file-not-folder", {1});
  Result out = dgtrain("--data " + (dir / "ok") + " --steps 1 " + tiny(dir / "file-not-folder", "r"));
  CHECK(out.code == 1);
  CHECK(out.output.find("cannot create") != std::string::npos);
  if (!dg::cuda_available()) {
    Result cuda = dgtrain("--data " + (dir / "ok") + " --steps 1 --device cuda --out " + (dir / "runs"));
    CHECK(cuda.code == 1);
    CHECK(cuda.output.find("--device cuda") != std::string::npos);
  }
}

TEST_CASE("resume after N steps equals the uninterrupted run bit for bit") {
  TempDir dir;
  write_idx_gz(dir / "idx", 20);  // 5 batches an epoch: the 8 steps cross an epoch
  const std::string data = "--data " + (dir / "idx") + " ";
  Result whole = dgtrain(data + "--steps 8 " + tiny(dir / "runs", "whole"));
  REQUIRE(whole.code == 0);
  Result first = dgtrain(data + "--steps 3 " + tiny(dir / "runs", "split"));
  REQUIRE(first.code == 0);
  Result rest = dgtrain("--resume " + (dir / "runs/split") + " --steps 8");
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  CHECK(rest.output.find("from step 3") != std::string::npos);
  check_same_checkpoint(dir / "runs/whole/checkpoints/step_000008.safetensors",
                        dir / "runs/split/checkpoints/step_000008.safetensors");
  // Flags that would change the run are refused with --resume.
  Result changed = dgtrain("--resume " + (dir / "runs/split") + " --lr-g 0.001");
  CHECK(changed.code == 1);
  CHECK(changed.output.find("--lr-g cannot be combined with --resume") != std::string::npos);
}

TEST_CASE("a damaged config.json is refused on resume, naming the field") {
  TempDir dir;
  write_idx_gz(dir / "idx", 8);
  REQUIRE(dgtrain("--data " + (dir / "idx") + " --steps 1 " + tiny(dir / "runs", "r")).code == 0);
  const std::string path = dir / "runs/r/config.json";
  const std::string good = read_text(path);
  struct Case {
    std::string from, to, message;
  };
  // log_every = 1.1e36 reached an int64 conversion before (found by fuzzing).
  for (const Case& c : {Case{"\"log_every\": 1", "\"log_every\": 1.1e36", "log_every must be an integer"},
                        Case{"\"log_every\": 1", "\"log_every\": 2000000000000000000", "log_every = 2000000000000000000 is outside"},
                        Case{"\"lr_g\": ", "\"lr_g\": 1e300, \"x\": ", "lr_g = 1e+300 is not a finite float"},
                        Case{"\"seed\": 1", "\"seed\": -1", "seed must be a non-negative integer"}}) {
    CAPTURE(c.to);
    std::string text = good;
    const size_t at = text.find(c.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, c.from.size(), c.to);
    write_file(path, Bytes(text.begin(), text.end()));
    Result r = dgtrain("--resume " + (dir / "runs/r"));
    CHECK(r.code == 1);
    CHECK(r.output.find("config.json: " + c.message) != std::string::npos);
  }
}

TEST_CASE("a truncated or foreign checkpoint is refused with a clear message") {
  TempDir dir;
  write_idx_gz(dir / "idx", 8);
  REQUIRE(dgtrain("--data " + (dir / "idx") + " --steps 2 " + tiny(dir / "runs", "r")).code == 0);
  const std::string ckpt = dir / "runs/r/checkpoints/step_000002.safetensors";
  const auto size = fs::file_size(ckpt);
  fs::resize_file(ckpt, size / 2);
  Result r = dgtrain("--resume " + (dir / "runs/r") + " --steps 4");
  CHECK(r.code == 1);
  CHECK(r.output.find("step_000002.safetensors") != std::string::npos);
  CHECK(r.output.find("truncated") != std::string::npos);
  // A safetensors file that is not a dg checkpoint.
  dg::SafeTensors other;
  other.tensors["x"] = {{1}, {0.0f}};
  dg::write_safetensors(ckpt, other);
  Result foreign = dgtrain("--resume " + (dir / "runs/r") + " --steps 4");
  CHECK(foreign.code == 1);
  CHECK(foreign.output.find("not a dg checkpoint") != std::string::npos);
}

// dgtrain_faults with G's weights made NaN at the end of step index 5 (the test-only hook), so
// the losses of step index 6 (step 7) are NaN; 20 steps, logged every step. Either way the run
// exits 3 naming step_000004 as the last good checkpoint.
static Result run_poisoned(const TempDir& dir, const std::string& name, int checkpoint_every) {
  write_idx_gz(dir / "idx", 16);
  Result r = run_binary(DG_DGTRAIN_FAULTS, "DG_TEST_NAN_STEP=5",
                        "--data " + (dir / "idx") + " --steps 20 --checkpoint-every " +
                            std::to_string(checkpoint_every) + " " + tiny(dir / "runs", name));
  INFO(r.output);
  CHECK(r.code == 3);
  CHECK(r.output.find("last good checkpoint is " + (dir / ("runs/" + name + "/checkpoints/step_000004.safetensors"))) !=
        std::string::npos);
  return r;
}

TEST_CASE("a NaN stops the run naming the step and keeps the last good checkpoint") {
  // Checkpoints every 2 steps: the one due after 6 steps finds the weights NaN, is not
  // written, and stops the run.
  TempDir dir;
  Result r = run_poisoned(dir, "nan", 2);
  INFO(r.output);
  CHECK(r.output.find("NaN or Inf") != std::string::npos);
  CHECK(r.output.find("step 6") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "runs/nan/checkpoints/step_000006.safetensors"));
  dg::SafeTensors st = dg::read_safetensors(dir / "runs/nan/checkpoints/step_000004.safetensors");
  for (const auto& [name, t] : st.tensors)
    for (float v : t.data) REQUIRE(std::isfinite(v));
}

TEST_CASE("a NaN loss between checkpoints stops the run at the logged step") {
  // Checkpoints every 4 steps: none is due after 6; the losses of step 7 stop the run.
  TempDir dir;
  Result r = run_poisoned(dir, "nanloss", 4);
  INFO(r.output);
  CHECK(r.output.find("a loss became NaN or Inf at step 7") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "runs/nanloss/checkpoints/step_000008.safetensors"));
}

TEST_CASE("--keep-checkpoints keeps the newest N and never the one a resume started from") {
  TempDir dir;
  write_idx_gz(dir / "idx", 16);
  auto checkpoints = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir / "runs/keep/checkpoints")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  Result r = dgtrain("--data " + (dir / "idx") + " --steps 5 --checkpoint-every 1 --keep-checkpoints 2 " +
                     tiny(dir / "runs", "keep"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(checkpoints() == std::vector<std::string>{"step_000004.safetensors", "step_000005.safetensors"});
  Result more = dgtrain("--resume " + (dir / "runs/keep") + " --steps 8 --keep-checkpoints 1");
  INFO(more.output);
  REQUIRE(more.code == 0);
  CHECK(checkpoints() == std::vector<std::string>{"step_000005.safetensors", "step_000008.safetensors"});
}
