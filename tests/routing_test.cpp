// Routed labs: [[link]] lowered to veths with pool addresses, and routing = "static"
// computing shortest-path routes, checked exactly on small labs and against an independent
// breadth-first search on random graphs.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>

#include "parser/describe.h"
#include "planner/render_json.h"
#include "tests/files.h"
#include "tests/plans.h"
#include "tests/states.h"

using namespace topo::test;

namespace {

std::string built_routed(const std::string& toml) {
  return steps_text(plan_for(expected_state(lab(toml)), empty_kernel()));
}

// The computed routes of a lab, "NS: route ..." a line, in the lab's order.
std::string routes_of(const std::string& toml) {
  std::string out;
  for (const Route& r : lab(toml).routes)
    if (r.computed) out += r.netns.value + ": " + describe(r) + "\n";
  return out;
}

const std::string kChain = R"(lab = "chain"
routing = "static"
[[netns]]
name = "r"
count = 3
[[link]]
ends = ["r1", "r2"]
[[link]]
ends = ["r2", "r3"]
)";

}  // namespace

TEST_CASE("link: a veth whose ends are named after their peers, addresses from the pools in file order", "[routing]") {
  CHECK(built_routed(R"(lab = "chain"
[[netns]]
name = "a"
[[netns]]
name = "b"
[[link]]
ends = ["a", "b"]
[[link]]
ends = ["a", "b"]
mtu = 9000
[[link]]
ends = ["b", "host"]
subnets = ["10.9.0.0/30"]
)") == "a: + netns a\n"
       "b: + netns b\n"
       "a: + veth b peer b/a 10.255.0.0/31 fd00:255::/127 (link a - b) & b: veth a peer a/b 10.255.0.1/31 "
       "fd00:255::1/127\n"
       "a: + veth b-2 peer b/a-2 10.255.0.2/31 fd00:255::2/127 mtu 9000 (link a - b) & b: veth a-2 peer a/b-2 "
       "10.255.0.3/31 fd00:255::3/127 mtu 9000\n"
       "b: + veth host peer host/b 10.9.0.1/30 (link b - host) & host: veth b peer b/host 10.9.0.2/30\n");
}

TEST_CASE("link: pools skip what the file uses, and names that do not fit are hashed", "[routing]") {
  Lab l = lab(R"(lab = "chain"
[addressing]
p2p = ["10.0.0.0/29"]
[[netns]]
name = "a"
[[netns]]
name = "a-namespace-of-a-long-name"
[[bridge]]
name = "br0"
addresses = ["10.0.0.3/31"]
[[link]]
ends = ["a", "a-namespace-of-a-long-name"]
subnets = ["10.0.0.0/31"]
[[link]]
ends = ["a", "a-namespace-of-a-long-name"]
)");
  std::vector<std::string> ends;
  for (const Interface& i : l.interfaces)
    if (i.origin) ends.push_back(i.netns.value + "/" + i.name.value + " " + to_string(i.addresses.at(0).value));
  CHECK(ends == std::vector<std::string>{"a/a-name-c6704bde 10.0.0.0/31", "a-namespace-of-a-long-name/a 10.0.0.1/31",
                                         "a/a-name-c672d537 10.0.0.4/31",
                                         "a-namespace-of-a-long-name/a-2 10.0.0.5/31"});
}

TEST_CASE("link: every mistake, positioned, at once", "[routing]") {
  CHECK(errors(R"(lab = "chain"
routing = "statik"
[addressing]
p2p = ["10.0.0.0/32", "fd00::/112"]
[[network]]
name = "lan"
subnets = ["fd00::/64"]
[[netns]]
name = "red"
[[link]]
ends = ["red", "rde"]
[[link]]
ends = ["red", "red"]
[[link]]
ends = ["red", "host"]
subnets = ["10.1.0.1/32"]
[[link]]
ends = ["red"]
)") == std::vector<std::string>{
           "2:11: 'routing' in the top level is 'statik'; it must be one of none, static (did you mean "
           "'static'?)",
           "4:8: pool 10.0.0.0/32 is too small for a link: each takes a /31",
           "4:23: the p2p pool fd00::/112 ([addressing]) overlaps subnet fd00::/64 of network 'lan'",
           "11:16: [[link]] end 'rde' is not a namespace of the lab (did you mean 'red'?)",
           "13:16: [[link]] joins namespace 'red' to itself",
           "16:12: subnet 10.1.0.1/32 has room for fewer than the two addresses of a link (a /31 at most)",
           "18:8: 'ends' in [[link]] must be an array of two namespace names",
       });
  CHECK(errors(R"(lab = "chain"
[addressing]
p2p = ["10.0.0.0/30"]
[[netns]]
name = "r"
count = 3
[[link]]
ends = ["r1", "r2"]
[[link]]
ends = ["r2", "r3"]
[[link]]
ends = ["r3", "r1"]
)") == std::vector<std::string>{"11:1: [[link]] r3 - r1 finds no /31 left in the p2p pool 10.0.0.0/30 (2 links "
                                "took it)"});
}

TEST_CASE("routing: a chain routes each end to the far link through the middle, which forwards", "[routing]") {
  CHECK(routes_of(kChain) ==
        "r1: route 10.255.0.2/31 via 10.255.0.1\n"
        "r1: route fd00:255::2/127 via fd00:255::1\n"
        "r3: route 10.255.0.0/31 via 10.255.0.2\n"
        "r3: route fd00:255::/127 via fd00:255::2\n");
  Lab l = lab(kChain);
  CHECK(l.find_netns("r1")->sysctls.empty());
  REQUIRE(l.find_netns("r2")->sysctls.size() == 2);
  CHECK(l.find_netns("r2")->sysctls[0].key.value == "net.ipv4.ip_forward");
  CHECK(l.find_netns("r2")->sysctls[1].key.value == "net.ipv6.conf.all.forwarding");
  // The plan says which routes topo computed, in text and JSON.
  CHECK(built_routed(kChain).find("r1: + route 10.255.0.2/31 via 10.255.0.1 (computed)\n") != std::string::npos);
  CHECK(plan_json(plan_for(expected_state(lab(kChain)), empty_kernel()), "chain")
            .find(R"("after":{"to":"10.255.0.2/31","via":"10.255.0.1","dev":null,"metric":0,"protocol":122,)"
                  R"("origin":"computed"})") != std::string::npos);
}

TEST_CASE("routing: a ring's far side is two equal ways, one multipath route", "[routing]") {
  std::string ring = R"(lab = "ring"
routing = "static"
[addressing]
p2p = ["10.255.0.0/16"]
[[netns]]
name = "r"
count = 4
[[link]]
ends = ["r1", "r2"]
[[link]]
ends = ["r2", "r3"]
[[link]]
ends = ["r3", "r4"]
[[link]]
ends = ["r4", "r1"]
[[network]]
name = "lan3"
netns = "r3"
subnets = ["192.168.3.0/24"]
[[netns]]
name = "pc"
networks = ["lan3"]
)";
  std::string routes = routes_of(ring);
  CHECK(routes.find("r1: route 192.168.3.0/24 nexthop via 10.255.0.1 nexthop via 10.255.0.6\n") != std::string::npos);
  CHECK(routes.find("pc:") == std::string::npos);  // a member keeps its default route, no more
  // A route the file writes wins over the computed one.
  std::string written = ring + "[[route]]\nnetns = \"r1\"\nto = \"192.168.3.0/24\"\nvia = \"10.255.0.1\"\n";
  CHECK(routes_of(written).find("r1: route 192.168.3.0/24") == std::string::npos);
}

TEST_CASE("routing: a namespace whose forwarding the file turns off is no path for that family", "[routing]") {
  std::string three = R"(lab = "chain"
routing = "static"
[[netns]]
name = "r1"
[[netns]]
name = "r2"
sysctl = { "net.ipv4.ip_forward" = 0 }
[[netns]]
name = "r3"
[[link]]
ends = ["r1", "r2"]
[[link]]
ends = ["r2", "r3"]
)";
  CHECK(routes_of(three) ==
        "r1: route fd00:255::2/127 via fd00:255::1\n"
        "r3: route fd00:255::/127 via fd00:255::2\n");
  CHECK(lab(three).find_netns("r2")->sysctls.size() == 2);  // its own, and IPv6 forwarding
}

namespace {

// A random connected graph of `n` routers: a random tree, then `extra` more links, each
// link with its own /31 (10.K.K.0/31 by link index), as a lab with routing = "static".
struct RandomGraph {
  size_t n = 0;
  std::vector<std::pair<size_t, size_t>> links;
  std::string toml;
};

RandomGraph random_graph(uint32_t seed) {
  std::mt19937 rng(seed);
  RandomGraph g;
  g.n = 2 + rng() % 59;
  for (size_t i = 1; i < g.n; ++i) g.links.push_back({rng() % i, i});
  size_t extra = rng() % (g.n + 1);
  for (size_t k = 0; k < extra; ++k) {
    size_t a = rng() % g.n, b = rng() % g.n;
    if (a != b) g.links.push_back({a, b});
  }
  g.toml = "lab = \"random\"\nrouting = \"static\"\n[addressing]\np2p = [\"10.0.0.0/8\"]\n";
  g.toml += fmt::format("[[netns]]\nname = \"r\"\ncount = {}\n", g.n);
  for (size_t k = 0; k < g.links.size(); ++k)
    g.toml += fmt::format("[[link]]\nends = [\"r{}\", \"r{}\"]\nsubnets = [\"10.{}.{}.0/31\"]\n", g.links[k].first + 1,
                          g.links[k].second + 1, k / 256, k % 256);
  return g;
}

// Hop counts between all pairs, breadth first from each.
std::vector<std::vector<size_t>> all_distances(const RandomGraph& g) {
  std::vector<std::vector<size_t>> adj(g.n);
  for (auto [a, b] : g.links) adj[a].push_back(b), adj[b].push_back(a);
  std::vector<std::vector<size_t>> d(g.n, std::vector<size_t>(g.n, SIZE_MAX));
  for (size_t s = 0; s < g.n; ++s) {
    std::vector<size_t> queue = {s};
    d[s][s] = 0;
    for (size_t i = 0; i < queue.size(); ++i)
      for (size_t v : adj[queue[i]])
        if (d[s][v] == SIZE_MAX) d[s][v] = d[s][queue[i]] + 1, queue.push_back(v);
  }
  return d;
}

}  // namespace

TEST_CASE("routing: on random connected graphs every next hop is on a shortest path and every tie is multipath",
          "[routing]") {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    RandomGraph g = random_graph(seed);
    INFO("seed " << seed << ", " << g.n << " namespaces, " << g.links.size() << " links");
    Lab l = lab(g.toml);
    auto d = all_distances(g);
    std::map<std::pair<std::string, std::string>, std::set<std::string>> computed;  // (ns, subnet) -> gateways
    for (const Route& r : l.routes)
      for (const Located<IpAddress>* via : r.gateways())
        computed[{r.netns.value, to_string(r.to.value)}].insert(to_string(via->value));
    size_t expected_routes = 0;
    for (size_t k = 0; k < g.links.size(); ++k) {
      auto [u, v] = g.links[k];
      std::string subnet = fmt::format("10.{}.{}.0/31", k / 256, k % 256);
      for (size_t x = 0; x < g.n; ++x) {
        size_t far = std::min(d[x][u], d[x][v]);
        if (far == 0) continue;  // x is on the link
        // Every neighbour one hop nearer, through every link to it: its address there.
        std::set<std::string> want;
        for (size_t j = 0; j < g.links.size(); ++j) {
          auto [a, b] = g.links[j];
          if (a != x && b != x) continue;
          size_t w = a == x ? b : a;
          if (std::min(d[w][u], d[w][v]) + 1 == far)
            want.insert(fmt::format("10.{}.{}.{}", j / 256, j % 256, w == a ? 0 : 1));
        }
        ++expected_routes;
        INFO("r" << x + 1 << " to " << subnet);
        CHECK(computed[{fmt::format("r{}", x + 1), subnet}] == want);
      }
    }
    CHECK(l.routes.size() == expected_routes);
  }
}

TEST_CASE("routing: a ring that loses a link changes the routes whose paths change, and no other", "[routing]") {
  std::string ring = read_file(source_dir() / "topologies/ring.toml");
  std::string cut = ring;
  std::string link = "[[link]]\nends = [\"r6\", \"r1\"]\n";
  cut.erase(cut.find(link), link.size());
  auto paths = [](const Lab& l) {
    std::map<std::pair<std::string, std::string>, std::set<std::string>> out;  // (ns, to) -> gateways
    for (const Route& r : l.routes)
      for (const Located<IpAddress>* g : r.gateways())
        out[{r.netns.value, to_string(r.to.value)}].insert(to_string(g->value));
    return out;
  };
  auto before = paths(lab(ring)), after = paths(lab(cut));
  size_t differ = 0;
  for (const auto& [key, gateways] : before) differ += !after.count(key) || after.at(key) != gateways;
  for (const auto& [key, gateways] : after) differ += !before.count(key);
  Diff d = diff(expected_state(lab(cut)), applied(expected_state(lab(ring))), "ring");
  size_t route_changes = 0;
  for (const Change& c : d.changes) route_changes += std::holds_alternative<RouteDelta>(c.subject);
  CHECK(differ == 44);
  CHECK(route_changes == differ);
}

TEST_CASE("routing: a lab whose routes or all-pairs expectations would not fit in memory is refused, quickly",
          "[routing][huge]") {
  // 2,001 routers in a chain: 2,001 x 2,000 x 2 families routes.
  std::string chain = "lab = \"big\"\nrouting = \"static\"\n[[netns]]\nname = \"r\"\ncount = 2001\n";
  for (int i = 1; i < 2001; ++i) chain += fmt::format("[[link]]\nends = [\"r{}\", \"r{}\"]\n", i, i + 1);
  CHECK(errors(chain) == std::vector<std::string>{"2:11: routing = \"static\" would compute up to 8004000 routes "
                                                  "(2001 routing namespaces, 4000 subnets); topo computes at most "
                                                  "2000000"});
  // 65,535 members of a network, every one probing every other.
  std::string pairs = R"(lab = "big"
[[network]]
name = "n"
subnets = ["10.0.0.0/8"]
[[netns]]
name = "m"
count = 65535
networks = ["n"]
[[expect]]
from = "*"
to = "*"
reach = true
)";
  CHECK(errors(pairs) == std::vector<std::string>{"9:1: [[expect]] from = '*', to = '*' makes up to 4294836225 "
                                                  "expectations; topo tests at most 1000000 in a lab"});
}

TEST_CASE("diff: a route to a subnet whose address leaves the namespace is made once the kernel's goes with it",
          "[routing][diff]") {
  // Evolve seed 201: eth0 (10.25.0.1/20) moves out of n17, whose route to 10.25.0.0/20 then
  // goes through a gateway; the kernel's own route to the subnet is no conflict, it goes
  // with the address before the routes are made. The same with the route in the file.
  std::string before = R"(lab = "ev"
[[netns]]
name = "n17"
[[veth]]
a = { name = "eth1", netns = "n17", addresses = ["10.112.0.10/24"] }
b = { name = "he7", addresses = ["10.112.0.2/24"] }
[[bridge]]
name = "eth0"
netns = "n17"
addresses = ["10.25.0.1/20"]
)";
  std::string after = before;
  after.replace(after.find("netns = \"n17\"\naddresses = [\"10.25"), 14, "");
  after += "[[route]]\nnetns = \"n17\"\nto = \"10.25.0.0/20\"\nvia = \"10.112.0.2\"\n";
  State observed = applied(expected_state(lab(before)));
  RouteState kernels;
  kernels.to = *parse_prefix("10.25.0.0/20");
  kernels.dev = "eth0";
  kernels.protocol = kKernelRouteProtocol;
  observed.namespaces["n17"].routes.push_back(kernels);
  Diff d = diff(expected_state(lab(after)), observed, "ev");
  CHECK(d.conflicts.empty());
  CHECK(describe(d).find("n17: + route 10.25.0.0/20 via 10.112.0.2\n") != std::string::npos);
  // Where the address stays, the kernel's route stays too: that is a conflict.
  std::string stays = before + "[[route]]\nnetns = \"n17\"\nto = \"10.25.0.0/20\"\nvia = \"10.112.0.2\"\n";
  CHECK(diff(expected_state(lab(stays)), observed, "ev").conflicts.size() == 1);
}

TEST_CASE("diff: in an adopted namespace the kernel's route to a subnet of the lab's own link is not the machine's",
          "[routing][diff]") {
  // Evolve seeds 204 and 206: a computed route in adopted c1 to the subnet its lab link
  // leaves; the kernel's route there goes with the address, and is the lab's doing.
  std::string before = R"(lab = "ev"
routing = "static"
[[netns]]
name = "c1"
path = "/run/adopt/c1"
[[netns]]
name = "n2"
[[netns]]
name = "n3"
[[link]]
ends = ["c1", "n2"]
subnets = ["10.1.0.0/31"]
[[link]]
ends = ["n2", "n3"]
subnets = ["10.2.0.0/31"]
[[link]]
ends = ["n3", "c1"]
subnets = ["10.3.0.0/31"]
)";
  std::string after = before;  // c1's link to n2, and its subnet, go to n2 - n3
  after.replace(after.find("ends = [\"c1\", \"n2\"]"), 19, "ends = [\"n2\", \"n3\"]");
  State observed = applied(expected_state(lab(before)));
  RouteState kernels;
  kernels.to = *parse_prefix("10.1.0.0/31");
  kernels.dev = "n2";
  kernels.protocol = kKernelRouteProtocol;
  observed.namespaces["c1"].routes.push_back(kernels);
  Diff d = diff(expected_state(lab(after)), observed, "ev");
  CHECK(d.conflicts.empty());
  CHECK(describe(d).find("c1: + route 10.1.0.0/31 via 10.3.0.0 (computed)\n") != std::string::npos);
  // A route of the machine's own to it is the machine's: a conflict.
  observed.namespaces["c1"].routes.back().dev = "eth9";
  observed.namespaces["c1"].links.push_back(LinkState{});
  observed.namespaces["c1"].links.back().name = "eth9";
  CHECK(diff(expected_state(lab(after)), observed, "ev").conflicts.size() == 1);
}
