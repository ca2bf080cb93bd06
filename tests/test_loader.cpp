// Preprocessing (resize, channels, scaling), the seeded shuffle, and the Loader's
// promises: permutations per epoch, disjoint rank shards, determinism for any prefetch
// depth, exact seek, and errors from the prefetch thread surfacing in next().
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/loader.h"
#include "data/preprocess.h"
#include "data/shuffle.h"

using namespace dg::data;

namespace {

ImageSet gray_image(int h, int w, std::vector<uint8_t> pixels) {
  ImageSet s;
  s.count = 1;
  s.channels = 1;
  s.height = h;
  s.width = w;
  s.pixels = std::move(pixels);
  s.source = "test-set";
  return s;
}

float scaled(float v) { return v / 127.5f - 1.0f; }

// f() must throw DataError whose message contains `word`.
template <typename F>
void check_fails(F&& f, const std::string& word) {
  try {
    f();
    FAIL_CHECK("no DataError thrown; expected one mentioning ", word);
  } catch (const DataError& e) {
    std::string message = e.what();
    CHECK_MESSAGE(message.find(word) != std::string::npos, message, " lacks '", word, "'");
  }
}

}  // namespace

TEST_CASE("preprocess: scaling to [-1, 1] and channel handling") {
  ImageSet g = gray_image(2, 2, {0, 51, 255, 128});
  float out[3 * 4];
  preprocess_image(g, 0, 2, 1, out);
  CHECK(out[0] == -1.0f);
  CHECK(out[1] == doctest::Approx(51 / 127.5 - 1).epsilon(1e-7));
  CHECK(out[2] == 1.0f);
  CHECK(out[3] == doctest::Approx(128 / 127.5 - 1).epsilon(1e-7));

  preprocess_image(g, 0, 2, 3, out);  // gray repeated into all three planes
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 4; i++) CHECK(out[c * 4 + i] == scaled(float(g.pixels[size_t(i)])));

  ImageSet rgb = gray_image(1, 2, {0, 10, 100, 110, 200, 255});
  rgb.channels = 3;
  preprocess_image(rgb, 0, 1, 3, out);  // 1x2 -> 1x1: the mean of each plane's two pixels
  CHECK(out[0] == scaled(5));
  CHECK(out[1] == scaled(105));
  CHECK(out[2] == scaled(227.5f));
  check_fails([&] { preprocess_image(rgb, 0, 1, 1, out); }, "3-channel");
  check_fails([&] { preprocess_image(g, 1, 2, 1, out); }, "index 1");
  check_fails([&] { preprocess_image(g, -1, 2, 1, out); }, "index -1");
  g.count = 2;  // claims a second image its pixels do not hold
  check_fails([&] { preprocess_image(g, 1, 2, 1, out); }, "past the end");
}

TEST_CASE("preprocess: bilinear resize with align_corners=false") {
  // 2x2 -> 4x4. Along each axis output i samples the input at (i + 0.5) / 2 - 0.5 =
  // -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper neighbour clamped): weights of the two
  // pixels (1, 0), (.75, .25), (.25, .75), (0, 1). Input rows 0 40 / 80 200.
  ImageSet g = gray_image(2, 2, {0, 40, 80, 200});
  const float row_w[4][2] = {{1, 0}, {.75f, .25f}, {.25f, .75f}, {0, 1}};
  const float expected[4][4] = {
      {0, 10, 30, 40}, {20, 35, 65, 80}, {60, 85, 135, 160}, {80, 110, 170, 200}};
  for (int y = 0; y < 4; y++)  // the table above, from the weights
    for (int x = 0; x < 4; x++) {
      float top = row_w[x][0] * 0 + row_w[x][1] * 40, bottom = row_w[x][0] * 80 + row_w[x][1] * 200;
      REQUIRE(expected[y][x] == doctest::Approx(row_w[y][0] * top + row_w[y][1] * bottom));
    }
  float out[16];
  preprocess_image(g, 0, 4, 1, out);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++) CHECK(out[y * 4 + x] == scaled(expected[y][x]));  // all exact in float

  // 4x4 -> 2x2 samples at 0.5 and 2.5: the mean of each 2x2 block.
  std::vector<uint8_t> p(16);
  std::iota(p.begin(), p.end(), uint8_t(0));
  ImageSet four = gray_image(4, 4, p);
  preprocess_image(four, 0, 2, 1, out);
  CHECK(out[0] == scaled(2.5f));   // (0 + 1 + 4 + 5) / 4
  CHECK(out[1] == scaled(4.5f));   // (2 + 3 + 6 + 7) / 4
  CHECK(out[2] == scaled(10.5f));
  CHECK(out[3] == scaled(12.5f));
}

TEST_CASE("shuffle: splitmix64 reference outputs and epoch permutations") {
  // The first outputs of splitmix64 seeded with 1234567, as published with the
  // reference implementation: changing the generator would change every run's order.
  SplitMix64 g{1234567};
  CHECK(g.next() == 6457827717110365317ull);
  CHECK(g.next() == 3203168211198807973ull);
  CHECK(g.next() == 9817491932198370423ull);
  CHECK(g.next() == 4593380528125082431ull);
  CHECK(g.next() == 16408922859458223821ull);

  std::vector<int> hits(7);
  for (int i = 0; i < 7000; i++) hits[size_t(g.below(7))]++;
  for (int h : hits) CHECK(h > 850);  // about 1000 each
  CHECK(g.below(1) == 0);

  std::vector<int32_t> p0 = epoch_permutation(42, 0, 1000), sorted = p0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int32_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(p0 != identity);
  CHECK(p0 == epoch_permutation(42, 0, 1000));
  CHECK(p0 != epoch_permutation(42, 1, 1000));
  CHECK(p0 != epoch_permutation(43, 0, 1000));
  // Pinned: a checkpoint resumes with this exact order, so it must never drift.
  CHECK(epoch_permutation(7, 3, 8) == std::vector<int32_t>{1, 3, 7, 5, 4, 6, 2, 0});
  CHECK(epoch_permutation(7, 3, 0).empty());
  CHECK(epoch_permutation(7, 3, 1) == std::vector<int32_t>{0});
}

namespace {

// n images of 2x2, one channel, whose pixels spell their own index, labelled with it.
ImageSet indexed_set(int n) {
  ImageSet s;
  s.count = n;
  s.channels = 1;
  s.height = s.width = 2;
  s.source = "indexed";
  for (int i = 0; i < n; i++) {
    s.pixels.insert(s.pixels.end(), {uint8_t(i % 256), uint8_t(i / 256), uint8_t(255 - i % 256), 7});
    s.labels.push_back(i);
  }
  return s;
}

uint8_t unscale(float v) { return uint8_t(std::lround((v + 1.0f) * 127.5f)); }

// The image indices of a batch, read back from its pixels (and checked against labels).
std::vector<int> batch_indices(const Loader& loader, const float* batch) {
  std::vector<int> out;
  for (int r = 0; r < loader.batch_rows(); r++) {
    const float* p = batch + r * 4;
    int index = unscale(p[0]) + 256 * unscale(p[1]);
    CHECK(unscale(p[2]) == 255 - index % 256);
    CHECK(unscale(p[3]) == 7);
    if (loader.labels()) CHECK(loader.labels()[r] == index);
    out.push_back(index);
  }
  return out;
}

std::vector<std::vector<int>> take(Loader& loader, int batches) {
  std::vector<std::vector<int>> out;
  for (int b = 0; b < batches; b++) out.push_back(batch_indices(loader, loader.next()));
  return out;
}

LoaderConfig config(int batch, uint64_t seed, int prefetch = 2) {
  LoaderConfig c{batch, 2, 1, seed};
  c.prefetch = prefetch;
  return c;
}

}  // namespace

TEST_CASE("loader: every epoch a new permutation, the same for the same seed") {
  ImageSet set = indexed_set(100);
  Loader loader(set, config(10, 5));
  CHECK(loader.batches_per_epoch() == 10);
  std::vector<std::vector<int>> epochs;
  for (int e = 0; e < 3; e++) {
    CHECK(loader.epoch() == e);
    CHECK(loader.step() == 10 * e);
    std::vector<int> order;
    for (const std::vector<int>& b : take(loader, 10)) order.insert(order.end(), b.begin(), b.end());
    std::vector<int> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> all(100);
    std::iota(all.begin(), all.end(), 0);
    CHECK(sorted == all);
    epochs.push_back(order);
  }
  CHECK(epochs[0] != epochs[1]);
  CHECK(epochs[1] != epochs[2]);

  auto first_epoch = [](Loader& l) {
    std::vector<int> order;
    for (const std::vector<int>& b : take(l, 10)) order.insert(order.end(), b.begin(), b.end());
    return order;
  };
  Loader same_seed(set, config(10, 5, 1)), other_seed(set, config(10, 6));
  CHECK(first_epoch(same_seed) == epochs[0]);
  CHECK(first_epoch(other_seed) != epochs[0]);
}

TEST_CASE("loader: ranks take disjoint strided shards of the same permutation") {
  ImageSet set = indexed_set(103);
  const int world = 4;
  for (int64_t epoch = 0; epoch < 2; epoch++) {
    std::vector<int32_t> perm = epoch_permutation(9, epoch, 103);
    std::set<int> seen;
    for (int rank = 0; rank < world; rank++) {
      LoaderConfig c = config(5, 9);
      c.rank = rank;
      c.world_size = world;
      Loader loader(set, c);
      CHECK(loader.batches_per_epoch() == 5);  // 103 / 4 = 25 images each, 5 batches
      loader.seek(epoch * 5);
      std::vector<int> shard;
      for (const std::vector<int>& b : take(loader, 5)) shard.insert(shard.end(), b.begin(), b.end());
      for (int j = 0; j < 25; j++) CHECK(shard[size_t(j)] == perm[size_t(rank + world * j)]);
      seen.insert(shard.begin(), shard.end());
    }
    CHECK(seen.size() == 100);  // disjoint, and all but the 3 positions past 4 * 25
    for (int k = 100; k < 103; k++) CHECK(seen.count(perm[size_t(k)]) == 0);
  }
}

TEST_CASE("loader: the same batches for any prefetch depth, and seek(n) gives batch n") {
  ImageSet set = indexed_set(50);  // 12 batches of 4 per epoch, 2 images left each epoch
  Loader reference(set, config(4, 77, 0));
  std::vector<std::vector<float>> ref;
  for (int b = 0; b < 40; b++) {
    const float* p = reference.next();
    ref.emplace_back(p, p + 4 * 4);
  }
  auto same = [](const float* batch, const std::vector<float>& expected) {
    return std::memcmp(batch, expected.data(), expected.size() * sizeof(float)) == 0;
  };
  for (int prefetch : {1, 3, 8}) {
    CAPTURE(prefetch);
    Loader loader(set, config(4, 77, prefetch));
    bool all_same = true;
    for (int b = 0; b < 40; b++) all_same = all_same && same(loader.next(), ref[size_t(b)]);
    CHECK(all_same);
    for (int n : {0, 1, 11, 12, 13, 30, 38}) {
      CAPTURE(n);
      Loader fresh(set, config(4, 77, prefetch));
      fresh.seek(n);
      CHECK(fresh.step() == n);
      CHECK(fresh.epoch() == n / 12);
      CHECK(same(fresh.next(), ref[size_t(n)]));
      CHECK(same(fresh.next(), ref[size_t(n + 1)]));
      loader.seek(n);  // a loader already in use, moved backwards and forwards
      CHECK(same(loader.next(), ref[size_t(n)]));
      CHECK(loader.step() == n + 1);
    }
  }
}

TEST_CASE("loader: without drop_last the short last batch is kept") {
  ImageSet set = indexed_set(23);
  LoaderConfig c = config(5, 3);
  c.drop_last = false;
  Loader loader(set, c);
  CHECK(loader.batches_per_epoch() == 5);
  std::vector<int> rows, order;
  for (int b = 0; b < 5; b++) {
    std::vector<int> batch = batch_indices(loader, loader.next());
    rows.push_back(loader.batch_rows());
    order.insert(order.end(), batch.begin(), batch.end());
  }
  CHECK(rows == std::vector<int>{5, 5, 5, 5, 3});
  std::sort(order.begin(), order.end());
  std::vector<int> all(23);
  std::iota(all.begin(), all.end(), 0);
  CHECK(order == all);
  loader.next();
  CHECK(loader.epoch() == 1);
  CHECK(loader.batch_rows() == 5);
}

TEST_CASE("loader: an error while preparing a batch surfaces in the next() of that batch") {
  ImageSet set = indexed_set(40);
  set.pixels.resize(30 * 4);  // images 30..39 are missing
  std::vector<int32_t> perm = epoch_permutation(11, 0, 40);
  int bad_batch = 0;
  while (*std::max_element(perm.begin() + 4 * bad_batch, perm.begin() + 4 * bad_batch + 4) < 30) bad_batch++;
  for (int prefetch : {0, 2}) {
    CAPTURE(prefetch);
    Loader loader(set, config(4, 11, prefetch));
    for (int b = 0; b < bad_batch; b++) {
      std::vector<int> got = batch_indices(loader, loader.next());
      CHECK(got == std::vector<int>(perm.begin() + 4 * b, perm.begin() + 4 * b + 4));
    }
    check_fails([&] { loader.next(); }, "past the end of the pixel data");
    check_fails([&] { loader.next(); }, "past the end");  // stays failed
    CHECK(loader.step() == bad_batch);
    loader.seek(0);  // seeking clears it
    CHECK(batch_indices(loader, loader.next()) == std::vector<int>(perm.begin(), perm.begin() + 4));
  }
}

TEST_CASE("loader: labels, resizing and configuration errors") {
  ImageSet set = indexed_set(12);
  {
    LoaderConfig c{3, 4, 3, 1};  // 2x2 gray -> 4x4, three channels
    c.prefetch = 3;
    Loader loader(set, c);
    for (int b = 0; b < 6; b++) {
      const float* batch = loader.next();
      for (int r = 0; r < 3; r++) {
        float expected[3 * 16];
        preprocess_image(set, loader.labels()[r], 4, 3, expected);
        CHECK(std::memcmp(batch + r * 48, expected, sizeof expected) == 0);
      }
    }
  }

  set.labels.clear();
  Loader unlabelled(set, config(4, 1));
  unlabelled.next();
  CHECK(unlabelled.labels() == nullptr);

  check_fails([&] { Loader l(set, config(13, 1)); }, "not one full batch of 13");
  LoaderConfig bad_rank = config(2, 1);
  bad_rank.rank = 2;
  bad_rank.world_size = 2;
  check_fails([&] { Loader l(set, bad_rank); }, "rank 2");
  check_fails([&] { Loader l(set, config(0, 1)); }, "batch size 0");
  ImageSet rgb = set;
  rgb.channels = 3;
  rgb.pixels.resize(12 * 12);
  check_fails([&] { Loader l(rgb, config(2, 1)); }, "3-channel");
  Loader seeking(set, config(2, 1));
  check_fails([&] { seeking.seek(-1); }, "seek");
}
