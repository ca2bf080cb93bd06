// dgtrain on the GPU (label gpu; skipped without a device): with --deterministic, two runs
// and a run resumed from a checkpoint end bit for bit alike (DESIGN §9, issue #8).
#include <doctest/doctest.h>

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
  for (const char* name : {"a", "b"}) {
    Result r = dgtrain(data + "--steps 8 " + on_gpu(dir / "runs", name));
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find("on cuda") != std::string::npos);
  }
  check_same_checkpoint(dir / "runs/a/checkpoints/step_000008.safetensors",
                        dir / "runs/b/checkpoints/step_000008.safetensors");
  REQUIRE(dgtrain(data + "--steps 3 " + on_gpu(dir / "runs", "split")).code == 0);
  Result rest = dgtrain("--resume " + (dir / "runs/split") + " --steps 8");
  INFO(rest.output);
  REQUIRE(rest.code == 0);
  check_same_checkpoint(dir / "runs/a/checkpoints/step_000008.safetensors",
                        dir / "runs/split/checkpoints/step_000008.safetensors");
}
