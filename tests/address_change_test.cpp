// How a link's addresses change (address_change) and in what order a state holds them
// (in_address_order): each IPv4 subnet's first address is the kernel's primary, so the
// order is part of the state.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "planner/state.h"

using namespace topo;

namespace {

std::vector<IpPrefix> list(std::initializer_list<const char*> texts) {
  std::vector<IpPrefix> out;
  for (const char* t : texts) out.push_back(*parse_prefix(t));
  return out;
}

LinkState with(std::initializer_list<const char*> addresses) {
  LinkState l;
  l.name = "eth0";
  l.up = true;
  l.addresses = list(addresses);
  return l;
}

// "first: … | added: … | then: … | again: … | promote", the steps in the executor's order.
std::string change(std::initializer_list<const char*> before, std::initializer_list<const char*> after) {
  AddressChange c = address_change(with(before), with(after));
  return fmt::format("first: {} | added: {} | then: {} | again: {}{}", fmt::join(c.first, " "), fmt::join(c.added, " "),
                     fmt::join(c.then, " "), fmt::join(c.again, " "), c.promote ? " | promote" : "");
}

std::string ordered(std::initializer_list<const char*> kernel) {
  return fmt::format("{}", fmt::join(in_address_order(list(kernel)), " "));
}

}  // namespace

TEST_CASE("addresses: sorted, but each IPv4 subnet in the kernel's order", "[addresses]") {
  CHECK(ordered({"10.0.0.4/24", "10.0.0.3/24"}) == "10.0.0.4/24 10.0.0.3/24");
  CHECK(ordered({"10.0.0.3/24", "10.0.0.4/24"}) == "10.0.0.3/24 10.0.0.4/24");
  // Subnets keep the places sorting gives them, even interleaved with another subnet.
  CHECK(ordered({"10.0.0.7/24", "10.0.0.6/16", "10.0.0.5/24"}) == "10.0.0.7/24 10.0.0.6/16 10.0.0.5/24");
  CHECK(ordered({"10.1.0.9/24", "10.0.0.9/24", "10.1.0.2/24"}) == "10.0.0.9/24 10.1.0.9/24 10.1.0.2/24");
  // IPv6 has no primary: sorted.
  CHECK(ordered({"fd00::4/64", "fd00::3/64", "10.0.0.2/24"}) == "10.0.0.2/24 fd00::3/64 fd00::4/64");
}

TEST_CASE("addresses: new ones are added before old ones go, with promote_secondaries on", "[addresses]") {
  CHECK(change({"10.0.0.3/24"}, {"10.0.0.30/24"}) ==
        "first:  | added: 10.0.0.30/24 | then: 10.0.0.3/24 | again: "
        " | promote");
  CHECK(change({"10.0.0.3/24", "10.0.0.4/24"}, {"10.0.0.4/24"}) ==
        "first:  | added:  | then: 10.0.0.3/24 | again:  | promote");
  // The last IPv4 address goes: nothing to promote.
  CHECK(change({"10.0.0.3/24"}, {}) == "first:  | added:  | then: 10.0.0.3/24 | again: ");
  // All of a subnet goes, secondaries first: the kernel deletes a primary's secondaries
  // with it, and deleting one of those after would fail (evolve seed 101).
  CHECK(change({"10.0.0.2/24", "10.0.0.127/24", "fd00::1/64"}, {}) ==
        "first:  | added:  | then: fd00::1/64 10.0.0.127/24 10.0.0.2/24 | again: ");
  // An IPv6 address whose length changes goes first: the kernel keys it by address alone.
  CHECK(change({"fd00::3/64"}, {"fd00::3/48"}) == "first: fd00::3/64 | added: fd00::3/48 | then:  | again: ");
}

TEST_CASE("addresses: a subnet whose primary would not be the file's is seated again", "[addresses]") {
  // .4 is primary; .3 added would be its secondary: .4 goes and comes back after .3.
  CHECK(change({"10.0.0.4/24"}, {"10.0.0.3/24", "10.0.0.4/24"}) ==
        "first:  | added: 10.0.0.3/24 | then: 10.0.0.4/24 | again: 10.0.0.4/24 | promote");
  // Only the order differs.
  CHECK(change({"10.0.0.4/24", "10.0.0.3/24"}, {"10.0.0.3/24", "10.0.0.4/24"}) ==
        "first:  | added:  | then: 10.0.0.4/24 | again: 10.0.0.4/24 | promote");
  // New secondaries of a seated subnet are added once, in order, after its primary.
  CHECK(change({"10.0.0.5/24"}, {"10.0.0.2/24", "10.0.0.3/24", "10.0.0.5/24"}) ==
        "first:  | added: 10.0.0.2/24 | then: 10.0.0.5/24 | again: 10.0.0.3/24 10.0.0.5/24 | promote");
  // In order already: a new highest address is just added, a removed one just deleted.
  CHECK(change({"10.0.0.3/24", "10.0.0.5/24"}, {"10.0.0.3/24", "10.0.0.4/24"}) ==
        "first:  | added: 10.0.0.4/24 | then: 10.0.0.5/24 | again:  | promote");
  // Another subnet is left alone.
  CHECK(change({"10.0.0.4/24", "10.1.0.1/24"}, {"10.0.0.3/24", "10.0.0.4/24", "10.1.0.1/24"}) ==
        "first:  | added: 10.0.0.3/24 | then: 10.0.0.4/24 | again: 10.0.0.4/24 | promote");
}

TEST_CASE("addresses: undoing a change puts the kernel's order back", "[addresses]") {
  // The state before the change, as read from the kernel, has .4 primary and .3 secondary.
  CHECK(change({"10.0.0.3/24", "10.0.0.4/24"}, {"10.0.0.4/24", "10.0.0.3/24"}) ==
        "first:  | added:  | then: 10.0.0.3/24 | again: 10.0.0.3/24 | promote");
}
