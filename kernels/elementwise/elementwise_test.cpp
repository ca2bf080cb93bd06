// The elementwise helpers on the CPU: results by hand, the argument checks, and
// record_nonfinite keeping the first bad step. (GPU vs CPU: elementwise_gpu_test.cpp.)
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/elementwise/elementwise.h"

using namespace dg;

namespace {
Tensor tensor_of(Context& ctx, const std::vector<float>& v) {
  Tensor t = ctx.alloc({int(v.size())});
  ctx.upload(t, v.data());
  return t;
}
std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data, t.data + t.numel()); }
}  // namespace

TEST_CASE("axpy, scale and copy by hand") {
  Context ctx;
  Tensor x = tensor_of(ctx, {1, -2, 3}), y = tensor_of(ctx, {10, 20, 30});
  axpy(ctx, 0.5f, x, y);
  CHECK(values(y) == std::vector<float>{10.5f, 19, 31.5f});
  scale(ctx, y, -2.0f);
  CHECK(values(y) == std::vector<float>{-21, -38, -63});
  Tensor z = ctx.zeros({1, 3, 1, 1});  // any shape of the same count
  copy(ctx, x, z);
  CHECK(values(z) == values(x));
  CHECK_THROWS_WITH_AS(copy(ctx, x, ctx.zeros({4})), doctest::Contains("copy: src"), dg::Error);
}

TEST_CASE("record_nonfinite keeps the first step with a NaN or an Inf") {
  Context ctx;
  Tensor first_bad = ctx.zeros({1});
  record_nonfinite(ctx, tensor_of(ctx, {1, 2, 3}), StepIndex{0}, first_bad);
  CHECK(first_bad.data[0] == 0.0f);  // all finite: nothing recorded
  record_nonfinite(ctx, tensor_of(ctx, {1, INFINITY, 3}), StepIndex{4}, first_bad);
  CHECK(first_bad.data[0] == 5.0f);  // step index 4 is step 5
  record_nonfinite(ctx, tensor_of(ctx, {NAN}), StepIndex{7}, first_bad);
  CHECK(first_bad.data[0] == 5.0f);  // the first one stays
  CHECK_THROWS_WITH_AS(record_nonfinite(ctx, tensor_of(ctx, {1}), StepIndex{0}, Tensor{}), doctest::Contains("first_bad"),
                       dg::Error);
  CHECK_THROWS_WITH_AS(record_nonfinite(ctx, tensor_of(ctx, {1}), StepIndex{-2}, first_bad),
                       doctest::Contains("got -2"), dg::Error);
}

TEST_CASE("count_step advances a counter that a counted step index reads when its op runs") {
  Context ctx;
  int64_t done = 0;
  count_step(ctx, &done);
  count_step(ctx, &done);
  CHECK(done == 2);
  Tensor first_bad = ctx.zeros({1});
  record_nonfinite(ctx, tensor_of(ctx, {NAN}), StepIndex::counted(&done), first_bad);
  CHECK(first_bad.data[0] == 3.0f);  // step index 2 is step 3
  CHECK_THROWS_WITH_AS(count_step(ctx, nullptr), doctest::Contains("no counter"), dg::Error);
}
