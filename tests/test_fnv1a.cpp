// engine/fnv1a.h: the values are persisted in names (feature networks, cached real
// statistics), so they are pinned here; a file fed in pieces hashes like the whole.
#include <doctest/doctest.h>

#include <string>

#include "engine/fnv1a.h"

using namespace dg;

namespace {
std::string hash_of(const std::string& s) {
  Fnv1a h;
  h.add(s);
  return h.hex();
}
}  // namespace

TEST_CASE("Fnv1a gives dg's persisted values, the same whether fed whole or in pieces") {
  // dg's offset basis, not the published one (see engine/fnv1a.h): "" hashes to the basis.
  CHECK(hash_of("") == "14650fb0739d0383");
  CHECK(hash_of("a") == "44bd8ad473cd9906");
  CHECK(hash_of("foobar") == "88fad7c0a8ff07f2");
  Fnv1a pieces;
  pieces.add("foo", 3);
  pieces.add("", 0);
  pieces.add(std::string("bar"));
  CHECK(pieces.hex() == hash_of("foobar"));
}
