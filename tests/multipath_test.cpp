// Multipath routes (equal-cost, RTA_MULTIPATH): `via` as a list in the file, read, planned,
// rendered in each of the plan's faces and written back by `topo expand`.
#include "parser/lab_toml.h"
#include "planner/render_json.h"
#include "planner/render_shell.h"
#include "tests/plans.h"
#include "tests/states.h"

using namespace topo::test;

namespace {

// r1 with two ways to 10.9.0.0/16: through br1 (10.0.1.2) and br2 (10.0.2.2).
const std::string kTwoWays = R"(lab = "web"
[[netns]]
name = "r1"
[[bridge]]
name = "br1"
addresses = ["10.0.1.2/24"]
[[bridge]]
name = "br2"
addresses = ["10.0.2.2/24", "fd00:2::2/64"]
[[veth]]
a = { netns = "r1", name = "up1", addresses = ["10.0.1.1/24"] }
b = { name = "p1", master = "br1" }
[[veth]]
a = { netns = "r1", name = "up2", addresses = ["10.0.2.1/24", "fd00:2::1/64"] }
b = { name = "p2", master = "br2" }
[[route]]
netns = "r1"
to = "10.9.0.0/16"
via = ["10.0.2.2", "10.0.1.2"]
)";

std::string with_route(const std::string& via) {
  std::string toml = kTwoWays;
  toml.replace(toml.find("via = ["), std::string(R"(via = ["10.0.2.2", "10.0.1.2"])").size(), via);
  return toml;
}

}  // namespace

TEST_CASE("multipath: a list of gateways is one route over all of them, sorted", "[multipath]") {
  Lab l = lab(kTwoWays);
  REQUIRE(l.routes.size() == 1);
  CHECK_FALSE(l.routes[0].via);
  REQUIRE(l.routes[0].multipath.size() == 2);
  CHECK(to_string(l.routes[0].multipath[0].value) == "10.0.1.2");
  CHECK(to_string(l.routes[0].multipath[1].value) == "10.0.2.2");
  // One gateway in a list is a plain route.
  Lab one = lab(with_route(R"(via = ["10.0.1.2"])"));
  CHECK(one.routes[0].multipath.empty());
  CHECK(one.routes[0].via);
}

TEST_CASE("multipath: gateways listed twice, none, with dev, or off-link are errors", "[multipath]") {
  CHECK(errors(with_route(R"(via = ["10.0.1.2", "10.0.1.2"])")) ==
        std::vector<std::string>{"19:20: gateway 10.0.1.2 is listed twice"});
  CHECK(errors(with_route(R"(via = [])")) == std::vector<std::string>{"19:7: 'via' lists no gateway"});
  CHECK(
      errors(with_route("via = [\"10.0.1.2\", \"10.0.2.2\"]\ndev = \"up1\"")) ==
      std::vector<std::string>{"20:1: a route over several gateways takes no 'dev': the kernel finds each one's link"});
  CHECK(errors(with_route(R"(via = ["10.0.1.2", "10.0.3.2"])")) ==
        std::vector<std::string>{"19:20: gateway 10.0.3.2 is not on any subnet of namespace 'r1' (its "
                                 "subnets: 10.0.1.1/24, 10.0.2.1/24); the kernel would refuse the route"});
  CHECK(errors(with_route(R"(via = ["10.0.1.2", "fd00:2::2"])")) ==
        std::vector<std::string>{"19:20: 'via' fd00:2::2 is IPv6 but 'to' 10.9.0.0/16 is IPv4"});
}

TEST_CASE("multipath: planned, rendered as ip writes it, and met by the kernel's own order", "[multipath]") {
  State expected = expected_state(lab(kTwoWays));
  const RouteState& r = expected.namespaces.at("r1").routes.at(0);
  CHECK(describe(r) == "route 10.9.0.0/16 nexthop via 10.0.1.2 nexthop via 10.0.2.2");
  State observed = applied(expected);
  Plan made = plan_for(expected, empty_kernel());
  CHECK(plan_shell(made, expected, "web")
            .find("ip -4 -n r1 route add 10.9.0.0/16 metric 0 proto 122 nexthop via 10.0.1.2 nexthop via 10.0.2.2\n") !=
        std::string::npos);
  CHECK(
      plan_json(made, "web")
          .find(
              R"("to":"10.9.0.0/16","via":null,"dev":null,"metric":0,"protocol":122,"nexthops":[{"via":"10.0.1.2","dev":null,"weight":1},{"via":"10.0.2.2","dev":null,"weight":1}]})") !=
      std::string::npos);
  // The kernel names each hop's device: that is no change.
  observed.namespaces["r1"].routes.at(0).multipath = {{*parse_ip("10.0.1.2"), "up1", 1},
                                                      {*parse_ip("10.0.2.2"), "up2", 1}};
  CHECK(plan_for(expected, observed).steps.empty());
  SECTION("a hop's weight set by hand is a change") {
    observed.namespaces["r1"].routes.at(0).multipath[1].weight = 3;
    CHECK(plan_text(plan_for(expected, observed)) ==
          "namespace r1\n"
          "  ~ route 10.9.0.0/16: nexthop via 10.0.1.2 dev up1 nexthop via 10.0.2.2 dev up2 weight 3 -> nexthop "
          "via 10.0.1.2 nexthop via 10.0.2.2\n"
          "\n"
          "Plan: 0 to add, 1 to change, 0 to destroy.\n");
  }
  SECTION("one path less, or one path only, is a change of the paths") {
    State one = expected_state(lab(with_route(R"(via = "10.0.2.2")")));
    CHECK(plan_text(plan_for(one, observed)) ==
          "namespace r1\n"
          "  ~ route 10.9.0.0/16: nexthop via 10.0.1.2 dev up1 nexthop via 10.0.2.2 dev up2 -> via 10.0.2.2\n"
          "\n"
          "Plan: 0 to add, 1 to change, 0 to destroy.\n");
    CHECK(plan_text(plan_for(expected, applied(one))) ==
          "namespace r1\n"
          "  ~ route 10.9.0.0/16: via 10.0.2.2 -> nexthop via 10.0.1.2 nexthop via 10.0.2.2\n"
          "\n"
          "Plan: 0 to add, 1 to change, 0 to destroy.\n");
  }
  SECTION("a route through a link made again is made again, whichever hop it is") {
    State edited = expected;
    for (LinkState& l : edited.namespaces["r1"].links)
      if (l.name == "up2") l.link_local = false;
    std::string text = plan_text(plan_for(edited, observed));
    CHECK(text.find("-/+ route 10.9.0.0/16") != std::string::npos);
  }
}

TEST_CASE("multipath: expand writes the gateways back as a list", "[multipath]") {
  std::string out = lab_toml(lab(kTwoWays), "lab.toml");
  CHECK(out.find("to = \"10.9.0.0/16\"\nvia = [\"10.0.1.2\", \"10.0.2.2\"]\n") != std::string::npos);
  CHECK(lab(out).routes.at(0).multipath.size() == 2);
}
