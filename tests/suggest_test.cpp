#include <catch2/catch.hpp>

#include "parser/suggest.h"

using namespace topo;

TEST_CASE("did-you-mean finds the intended word and stays quiet otherwise", "[suggest]") {
  std::vector<std::string_view> keys = {"name", "netns", "addresses", "mtu", "mac", "master"};
  CHECK(did_you_mean("adress", keys) == " (did you mean 'addresses'?)");
  CHECK(did_you_mean("naem", keys) == " (did you mean 'name'?)");  // a swap is one edit
  CHECK(did_you_mean("Name", keys) == " (did you mean 'name'?)");
  CHECK(did_you_mean("mastr", keys) == " (did you mean 'master'?)");
  CHECK(did_you_mean("addr", keys) == " (did you mean 'addresses'?)");
  CHECK(did_you_mean("colour", keys).empty());
  CHECK(did_you_mean("id", keys).empty());
  CHECK(did_you_mean("x", {}).empty());
}
