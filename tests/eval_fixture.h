// dgeval from a test (DG_DGEVAL is its path), and a labelled set with its t10k split and a
// classifier trained on it: what an evaluating dgtrain run needs.
#pragma once
#include <doctest/doctest.h>

#include <string>

#include "tests/dgtrain_runner.h"
#include "tests/eval_files.h"

namespace dg::test {

inline Result dgeval(const std::string& args) { return run_binary(DG_DGEVAL, "", args); }

struct Fixture {
  TempDir dir;
  std::string data, classifier;
  Fixture() {
    write_labelled_idx(dir.path.string(), "train", 240, 3, 1);
    write_labelled_idx(dir.path.string(), "t10k", 60, 3, 2);
    data = dir.path.string() + "/train-images-idx3-ubyte.gz";
    classifier = dir.path.string() + "/classifier.safetensors";
    const Result r = dgeval("train-classifier --device cpu --data " + data + " --epochs 4 --batch-size 16 --out " +
                            classifier);
    INFO(r.output);
    REQUIRE(r.code == 0);
  }
};

}  // namespace dg::test
