// Tensor views and the arena: alignment, reuse after release, peak tracking, errors; the batch upload.
#include <doctest/doctest.h>

#include <cstdint>
#include <tuple>
#include <vector>

#include "engine/batch_upload.h"
#include "engine/context.h"

using namespace dg;

TEST_CASE("shapes and views") {
  Shape s{2, 3, 4, 5};
  CHECK(s.numel() == 120);
  CHECK(s.str() == "(2, 3, 4, 5)");
  Context ctx;
  Tensor t = ctx.alloc(s);
  CHECK(t.n() == 2);
  CHECK(t.w() == 5);
  Tensor b = t.batch_slice(1, 1);
  CHECK(b.data == t.data + 60);
  CHECK(b.shape == Shape{1, 3, 4, 5});
  CHECK(t.reshaped({6, 20}).shape == Shape{6, 20});
  CHECK_THROWS_WITH_AS(t.reshaped({7, 20}), doctest::Contains("cannot view (2, 3, 4, 5) as (7, 20)"), dg::Error);
  CHECK_THROWS_AS(t.slice(100, {30}), dg::Error);
  CHECK_THROWS_AS(t.batch_slice(1, 2), dg::Error);
  CHECK_THROWS_WITH_AS(check_shape(t, {2, 3, 4, 6}, "weight"), doctest::Contains("weight: expected shape (2, 3, 4, 6)"),
                       dg::Error);
}

TEST_CASE("arena: alignment, peak, release and reuse") {
  Arena arena(host_backing(), 4096);
  void* a = arena.allocate(10);
  void* b = arena.allocate(300);
  CHECK(reinterpret_cast<uintptr_t>(a) % Arena::kAlignment == 0);
  CHECK(reinterpret_cast<uintptr_t>(b) % Arena::kAlignment == 0);
  CHECK(arena.in_use_bytes() == 256 + 512);
  Arena::Mark m = arena.mark();
  void* c = arena.allocate(1000);
  CHECK(arena.peak_bytes() == 256 + 512 + 1024);
  arena.release(m);
  CHECK(arena.in_use_bytes() == 768);
  CHECK(arena.peak_bytes() == 1792);  // the high-water mark stays
  void* c2 = arena.allocate(1000);
  CHECK(c2 == c);  // released memory is reused, no new block
  CHECK(arena.reserved_bytes() == 4096);
  // Larger than a block: a block of its own.
  arena.allocate(10000);
  CHECK(arena.reserved_bytes() == 4096 + 10240);
  arena.release({0, 0, 0});
  CHECK(arena.in_use_bytes() == 0);
  // After a full release the first block is reused from its start.
  CHECK(arena.allocate(8) == a);
}

TEST_CASE("arena: the held peak leaves the ops' workspaces out") {
  Context ctx;
  Arena& arena = ctx.arena();
  const size_t base = arena.in_use_bytes();
  ctx.alloc({64});  // 256 bytes, held
  {
    WorkspaceScope w(ctx);
    ctx.alloc({1024});  // 4096 bytes of an op's workspace
    CHECK(arena.in_use_bytes() == base + 256 + 4096);
  }
  CHECK(arena.in_use_bytes() == base + 256);  // released with its scope
  ctx.alloc({128});                            // 512 more held
  CHECK(arena.peak_bytes() == base + 256 + 4096);
  CHECK(arena.held_peak_bytes() == base + 256 + 512);
}

TEST_CASE("arena: a range used anew is told to the backing as freed and handed out again") {
  std::vector<std::tuple<char*, size_t, bool>> told;
  ArenaBacking backing = host_backing();
  backing.on_change = [&](void* p, size_t bytes, bool in_use) { told.emplace_back(static_cast<char*>(p), bytes, in_use); };
  Arena arena(backing, 4096);
  char* p = static_cast<char*>(arena.allocate(1024));
  told.clear();
  arena.reuse(p, 1024, 200);
  REQUIRE(told.size() == 2);
  CHECK(told[0] == std::make_tuple(p, size_t(1024), false));  // all of it poisoned,
  CHECK(told[1] == std::make_tuple(p, size_t(200), true));    // then the part in use fresh
  CHECK(arena.in_use_bytes() == 1024);                        // nothing moved
  CHECK_THROWS_WITH_AS(arena.reuse(p, 1024, 2048), doctest::Contains("arena reuse of 2048 bytes of a 1024-byte range"),
                       dg::Error);
  arena.release({0, 0, 0});
}

TEST_CASE("scratch scopes release on exit") {
  Context ctx;
  size_t before = ctx.arena().in_use_bytes();
  {
    ScratchScope s(ctx);
    ctx.alloc({1000});
    CHECK(ctx.arena().in_use_bytes() > before);
  }
  CHECK(ctx.arena().in_use_bytes() == before);
}

TEST_CASE("a CUDA context fails clearly when CUDA is not there, and opens when it is") {
  ContextOptions opt;
  opt.device = Device::cuda;
  if (cuda_available())
    CHECK_NOTHROW(Context{opt});
  else
    CHECK_THROWS_AS(Context{opt}, dg::Error);
}

TEST_CASE("BatchUpload on the CPU copies each batch into the one batch tensor") {
  Context ctx;
  BatchUpload up(ctx, {2, 1, 2, 2});
  std::vector<float> host(8);
  Tensor first;
  for (int b = 0; b < 3; b++) {
    for (size_t i = 0; i < host.size(); i++) host[i] = float(b * 10 + int(i));
    const Tensor batch = up.next(host.data());
    if (b == 0) first = batch;
    CHECK(batch.data == first.data);  // always the same tensor (a captured step reads it)
    CHECK(std::vector<float>(batch.data, batch.data + 8) == host);
  }
}
