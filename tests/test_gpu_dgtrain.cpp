// dgtrain on the GPU (label gpu; skipped without a device): with --deterministic, two runs
// (one replaying its steps as a CUDA graph, one not) and a run resumed from a checkpoint end bit
// for bit alike (DESIGN §9, issue #8). Under the
// emulator (-DDG_CUDA=EMU) also what dgtrain does with a broken CUDA runtime.
#include <doctest/doctest.h>

#include "engine/context.h"
#include "tests/dgtrain_runner.h"

using namespace dg::test;

namespace {
std::string on_gpu(const std::string& out, const std::string& name) {
  std::string args = tiny(out, name);
  return args.replace(args.find("--device cpu"), 12, "--device cuda --deterministic");
}
}  // namespace

TEST_CASE("--deterministic on the GPU: two runs and a resumed run end bit for bit alike") {
  TempDir dir;
  write_idx_gz(dir / "idx", 24);
  const std::string data = "--data " + (dir / "idx") + " ";
  // Each process times cuDNN's algorithms anew, and timings differ from run to run: under the
  // emulator each run gets its own timing noise (DGEMU_FIND_SEED; a GPU ignores it), so a
  // choice by timing would differ between these runs and their bits with it.
  // Run a replays its steps as a CUDA graph (the default), run b queues them one by one.
  for (const char* name : {"a", "b"}) {
    const bool graph = name[0] == 'a';
    Result r = dgtrain_env(std::string("DGEMU_FIND_SEED=") + (graph ? "11" : "22"),
                           data + "--steps 8 " + (graph ? "" : "--cuda-graph off ") + on_gpu(dir / "runs", name));
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find("on cuda") != std::string::npos);
    // Logging, samples and checkpoints between the steps leave the step's memory where it was:
    // two warm-up steps, one capture, every later step a replay.
    CHECK((r.output.find("CUDA graph: 6 steps replayed, 2 run as they are, 1 captures") != std::string::npos) == graph);
  }
  check_same_checkpoint(dir / "runs/a/checkpoints/step_000008.safetensors",
                        dir / "runs/b/checkpoints/step_000008.safetensors");
  REQUIRE(dgtrain_env("DGEMU_FIND_SEED=33", data + "--steps 3 " + on_gpu(dir / "runs", "split")).code == 0);
  Result rest = dgtrain_env("DGEMU_FIND_SEED=44", "--resume " + (dir / "runs/split") + " --steps 8");
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  check_same_checkpoint(dir / "runs/a/checkpoints/step_000008.safetensors",
                        dir / "runs/split/checkpoints/step_000008.safetensors");
}

#ifdef DG_MPIEXEC
// The NCCL twin of test_dgtrain_mpi's resume: 2 ranks, one GPU each, gradients in buckets on
// NCCL's stream, synchronized BN; a run resumed from its step-3 checkpoint ends bit for bit where
// the uninterrupted run ends. Needs a device per rank.
TEST_CASE("2 ranks on the GPU through NCCL: a resumed run equals the uninterrupted one bit for bit") {
  if (dg::cuda_device_count() < 2) {
    MESSAGE("SKIPPED: fewer than 2 CUDA devices for 2 ranks");
    return;
  }
  TempDir dir;
  write_idx_gz(dir / "idx", 40);
  const std::string data = "--data " + (dir / "idx") + " --sync-bn --grad-bucket-mb 0.001 ";
  Result whole = dgtrain_env(mpirun2, data + "--steps 6 " + on_gpu(dir / "runs", "whole"));
  INFO(whole.output);
  REQUIRE(whole.code == 0);
  CHECK(whole.output.find("gradients averaged by NCCL") != std::string::npos);
  REQUIRE(dgtrain_env(mpirun2, data + "--steps 3 " + on_gpu(dir / "runs", "split")).code == 0);
  Result rest = dgtrain_env(mpirun2, "--resume " + (dir / "runs/split") + " --steps 6");
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  check_same_checkpoint(dir / "runs/whole/checkpoints/step_000006.safetensors",
                        dir / "runs/split/checkpoints/step_000006.safetensors");
}
#endif

#ifdef DG_CUDA_EMU
// A CUDA runtime that fails (here: the emulator told to fail like a driver older than the
// runtime) is named, never taken for "no device": --device auto says so and trains on the CPU,
// --device cuda fails with it. No device at all stays the quiet, ordinary case.
TEST_CASE("a broken CUDA runtime is named: --device auto trains on the CPU saying why, --device cuda fails") {
  TempDir dir;
  write_idx_gz(dir / "idx", 8);
  const std::string args = "--data " + (dir / "idx") + " --steps 1 --nz 8 --ngf 4 --ndf 4 --batch-size 4 --out " +
                           (dir / "runs");
  Result autod = dgtrain_env("DGEMU_RUNTIME_ERROR=insufficient_driver", args + " --device auto --run-name a");
  INFO(autod.output);
  CHECK(autod.code == 0);
  CHECK(autod.output.find("cudaErrorInsufficientDriver") != std::string::npos);
  CHECK(autod.output.find("training on the CPU") != std::string::npos);
  Result cuda = dgtrain_env("DGEMU_RUNTIME_ERROR=initialization", args + " --device cuda --run-name c");
  INFO(cuda.output);
  CHECK(cuda.code == 1);
  CHECK(cuda.output.find("cudaErrorInitializationError") != std::string::npos);
  Result none = dgtrain_env("DGEMU_DEVICES=0", args + " --device auto --run-name n");
  INFO(none.output);
  CHECK(none.code == 0);
  CHECK(none.output.find("no CUDA device visible: training on the CPU") != std::string::npos);
  CHECK(none.output.find("cudaError") == std::string::npos);
}
#endif
