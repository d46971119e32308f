// The high level lowered to primitives (lower/lower.h): a lab of networks in, the plan of
// building it from an empty kernel out, and each new error kind with its position.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "lower/link_names.h"
#include "lower/machines.h"
#include "lower/subnet_pool.h"
#include "parser/describe.h"
#include "parser/lab_toml.h"
#include "planner/probe.h"
#include "tests/files.h"
#include "tests/plans.h"

using namespace topo::test;

namespace {

// The plan that builds `toml` on a kernel with nothing of the lab's: one step a line.
std::string built(const std::string& toml) { return steps_text(plan_for(expected_state(lab(toml)), empty_kernel())); }

}  // namespace

TEST_CASE("lower: a network is a bridge holding the gateways, and each member a veth to it", "[lower]") {
  // The fixture kernel has no IPv6 forwarding sysctl to read: "(unreadable)".
  CHECK(built(R"(lab = "web"
[[network]]
name = "front"
subnets = ["172.20.0.0/24", "fd00:20::/64"]
masquerade = true
[[netns]]
name = "web"
networks = ["front"]
publish = ["8080:80", "5353:53/udp"]
)") == "web: + netns web\n"
       "host: ~ sysctl net.ipv4.ip_forward: 0 -> 1\n"
       "host: ~ sysctl net.ipv6.conf.all.forwarding: (unreadable) -> 1\n"
       "host: + bridge front 172.20.0.1/24 fd00:20::1/64 mtu 1500 (network front)\n"
       "host: + veth front-web peer web/eth0 master front link_local false (network front, member web) & web: veth "
       "eth0 peer "
       "host/front-web 172.20.0.2/24 "
       "fd00:20::2/64\n"
       "web: + route default via 172.20.0.1\n"
       "web: + route ::/0 via fd00:20::1 metric 1024\n"
       "host: + nft table inet topo-web: 4 rules\n");
}

TEST_CASE("lower: members take the next free addresses in file order, skipping explicit ones", "[lower]") {
  // A group's members in index order; an address given explicitly is never handed out.
  Lab l = lab(R"(lab = "web"
[[network]]
name = "back"
subnets = ["10.1.0.0/29"]
[[netns]]
name = "db"
networks = [{ network = "back", address = "10.1.0.3/29", name = "lan0" }]
[[netns]]
name = "worker"
count = 3
networks = ["back"]
)");
  std::vector<std::string> seen;
  for (const Interface& i : l.interfaces)
    for (const auto& a : i.addresses) seen.push_back(fmt::format("{}/{} {}", i.netns.value, i.name.value, a.value));
  CHECK(seen == Lines{"host/back 10.1.0.1/29", "db/lan0 10.1.0.3/29", "worker1/eth0 10.1.0.2/29",
                      "worker2/eth0 10.1.0.4/29", "worker3/eth0 10.1.0.5/29"});
  CHECK(l.networks.empty());
}

TEST_CASE("lower: a segment's links are named from the bridge, hashed where the name does not fit", "[lower]") {
  CHECK(segment_name("lan", "_s1") == "lan_s1");
  CHECK(segment_name("verylongbridg", "_s10") == segment_name("verylongbridg", "_s10"));
  CHECK(segment_name("verylongbridg", "_s10").size() == 15);
  CHECK(segment_name("verylongbridg", "_s10").substr(0, 5) == "veryl");
  // Two bridges alike in their first characters: cut, their leaves were one name.
  CHECK(segment_name("verylongbridge1", "_s1") != segment_name("verylongbridge2", "_s1"));
  Lab l = lab(R"(lab = "c"
[[network]]
name = "one"
bridge = "verylongbridge1"
subnets = ["10.1.0.0/16"]
[[network]]
name = "two"
bridge = "verylongbridge2"
subnets = ["10.2.0.0/16"]
[[netns]]
name = "a"
count = 1001
networks = ["one", "two"]
)");
  std::set<std::string> host;
  for (const Interface& i : l.interfaces)
    if (i.netns.value == "host") CHECK(host.insert(i.name.value).second);
  CHECK(host.size() == 2 * (1 + 3 * 2 + 1001));  // the root, and its two leaves each on a veth
}

TEST_CASE("lower: the host-side end is named from the names, hashed where they do not fit", "[lower]") {
  CHECK(readable_end_name("front", "web") == "front-web");
  CHECK(readable_end_name("backend", "database1") == "");  // 17 bytes
  CHECK(hashed_end_name("shop", "backend", "database1").size() == 15);
  CHECK(hashed_end_name("shop", "backend", "database1").substr(0, 7) == "backen-");
  CHECK(hashed_end_name("shop", "backend", "database1") != hashed_end_name("shop", "backend", "database2"));
  CHECK(hashed_end_name("shop", "backend", "database1") == hashed_end_name("shop", "backend", "database1"));
  // Two pairs that would read the same ("a-b-c") both take a hash.
  Lab l = lab(R"(lab = "web"
[[network]]
name = "a"
subnets = ["10.1.0.0/24"]
[[network]]
name = "a-b"
subnets = ["10.2.0.0/24"]
[[netns]]
name = "b-c"
networks = ["a"]
[[netns]]
name = "c"
networks = ["a-b"]
)");
  std::vector<std::string> host_ends;
  for (const Interface& i : l.interfaces)
    if (i.netns.value == "host" && i.kind() == LinkKind::veth) host_ends.push_back(i.name.value);
  CHECK(host_ends == Lines{hashed_end_name("web", "a", "b-c"), hashed_end_name("web", "a-b", "c")});
}

TEST_CASE("lower: subnet pools count hosts as the kernel's families do", "[lower]") {
  CHECK(SubnetPool(IpPrefix{*parse_ip("10.0.0.0"), 24}, true).hosts() == 254);
  CHECK(SubnetPool(IpPrefix{*parse_ip("10.0.0.0"), 31}, false).hosts() == 2);
  CHECK(SubnetPool(IpPrefix{*parse_ip("fd00::"), 120}, true).hosts() == 255);
  SubnetPool full(IpPrefix{*parse_ip("10.0.0.0"), 30}, true);
  CHECK(full.next() == parse_ip("10.0.0.2"));
  CHECK(full.next() == std::nullopt);
  SubnetPool carry(IpPrefix{*parse_ip("10.0.0.0"), 23}, true);
  for (int i = 0; i < 254; ++i) carry.next();
  CHECK(carry.next() == parse_ip("10.0.1.0"));
}

TEST_CASE("lower: every mistake of the high level, positioned, at once", "[lower]") {
  CHECK(errors(R"(lab = "web"
[[network]]
name = "front"
subnets = ["172.20.0.0/30"]
[[network]]
name = "back"
subnets = ["172.20.0.0/16", "10.0.0.1/24"]
[[netns]]
name = "web"
networks = ["frnt", { network = "back", address = "10.9.0.2/24" }]
[[netns]]
name = "worker"
count = 3
networks = ["front"]
publish = ["8080:80"]
[[netns]]
name = "lone"
publish = ["80"]
)") == Lines{"4:12: subnet 172.20.0.0/30 of network 'front' has room for 1 member besides its gateway, but 3 "
             "want an address from it",
             "7:12: subnet 172.20.0.0/16 of network 'back' overlaps subnet 172.20.0.0/30 of network 'front'",
             "7:29: subnet 10.0.0.1/24 in [[network]] 'back' has host bits set (did you mean 10.0.0.0/24?)",
             "10:13: namespace 'web' is on network 'frnt', which is not defined (did you mean 'front'?)",
             "10:51: address 10.9.0.2/24 is not on subnet 172.20.0.0/16 of network 'back'",
             "15:1: 'publish' cannot be set with 'count' in [[netns]] 'worker': each of the group's namespaces would "
             "have the same one",
             "18:12: 'publish' entry '80' in [[netns]] 'lone' is not HOSTPORT:PORT or HOSTPORT:PORT/PROTO (ports "
             "1-65535, PROTO tcp or udp), like \"8080:80\" or \"5353:53/udp\""});
}

namespace {

// A lab's model and the plan that builds it, each line once, in order: the same lab read
// from another file lists its tables in another order (all bridges before all veths).
Lines sorted_lines(const std::string& text) {
  Lines out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

// What `l` builds; the plan lines without where a network's or link's interfaces and the
// computed routes come from, which only the high level knows.
Lines what_it_builds(const Lab& l) {
  Lines out = sorted_lines(describe(l));
  static const std::regex origin(R"( \((network|link) [^)]*\)| \(computed\))");
  for (const std::string& s : sorted_lines(steps_text(plan_for(expected_state(l), empty_kernel()))))
    out.push_back(std::regex_replace(s, origin, ""));
  out.push_back(fmt::format("{} expectations", l.expects.size()));
  return out;
}

}  // namespace

TEST_CASE("expand: every example lab, written back as primitives, loads to the same lab", "[lower]") {
  for (const auto& path : files_in(source_dir() / "topologies", ".toml")) {
    DYNAMIC_SECTION(path.filename().string()) {
      Lab whole = lab(read_file(path));
      // Over several machines, each one's slice is a lab of its own.
      std::vector<Lab> parts;
      for (const Machine& m : whole.machines) parts.push_back(slice(whole, m.name.value));
      if (parts.empty()) parts.push_back(whole);
      for (const Lab& original : parts) {
        std::string expanded = lab_toml(original, path.filename().string());
        INFO(expanded);
        Lab again = lab(expanded);
        CHECK(again.networks.empty());
        CHECK(what_it_builds(again) == what_it_builds(original));
      }
    }
  }
}

TEST_CASE("lower: primitives and networks mix, and a network may live in a namespace of the lab", "[lower]") {
  // A [[veth]] end on a network's bridge, a [[route]] through its gateway, an expectation
  // of the network (its gateway's address): the router namespace forwards and masquerades.
  Lab l = lab(R"(lab = "mix"
[[netns]]
name = "router"
[[network]]
name = "lan"
netns = "router"
subnets = ["10.5.0.0/24"]
masquerade = true
[[netns]]
name = "pc"
count = 2
networks = ["lan"]
[[netns]]
name = "old"
[[veth]]
a = { netns = "old", name = "eth0", addresses = ["10.5.0.200/24"] }
b = { netns = "router", name = "old-p", master = "lan" }
[[route]]
netns = "old"
to = "default"
via = "10.5.0.1"
[[expect]]
from = "old"
to = "lan"
reach = true
)");
  CHECK(describe(l) ==
        "lab mix\n"
        "netns host\n"
        "netns router\n"
        "  sysctl net.ipv4.ip_forward = 1\n"
        "  veth old-p peer old/eth0 master lan\n"
        "  bridge lan 10.5.0.1/24\n"
        "  veth lan-pc1 peer pc1/eth0 master lan link_local false\n"
        "  veth lan-pc2 peer pc2/eth0 master lan link_local false\n"
        "  nat masquerade 10.5.0.0/24 out !lan\n"
        "netns pc1\n"
        "  veth eth0 peer router/lan-pc1 10.5.0.2/24 link_local false\n"
        "  route default via 10.5.0.1\n"
        "netns pc2\n"
        "  veth eth0 peer router/lan-pc2 10.5.0.3/24 link_local false\n"
        "  route default via 10.5.0.1\n"
        "netns old\n"
        "  veth eth0 peer router/old-p 10.5.0.200/24\n"
        "  route default via 10.5.0.1\n");
  REQUIRE(l.expects.size() == 1);
  CHECK(probes_of(l).at(0).to_label == "10.5.0.1 (lan)");
}

TEST_CASE("lower: a network of more members than a bridge takes is a segment of bridges", "[lower]") {
  // 1001 members: the root holds the gateway, leaves of 1000 hold the members, each leaf
  // on a veth from the root; a leaf answers no ARP and has no IPv6 link-local address (it is a switch). Of
  // the members' lines, those of the first and the last.
  std::string all = describe(lab(R"(lab = "big"
[[network]]
name = "lan"
subnets = ["10.60.0.0/20"]
[[netns]]
name = "m"
count = 1001
networks = ["lan"]
)"));
  std::istringstream in(all);
  std::string kept, line, ns = "host";
  while (std::getline(in, line)) {
    if (line.rfind("netns ", 0) == 0) ns = line.substr(6);
    bool member = ns != "host" && ns != "m1" && ns != "m1001";
    bool member_end = line.find(" peer m") != std::string::npos && line.find(" peer m1/") == std::string::npos &&
                      line.find(" peer m1001/") == std::string::npos;
    if (!member && !member_end) kept += line + "\n";
  }
  CHECK(kept ==
        "lab big\n"
        "netns host\n"
        "  sysctl net.ipv4.ip_forward = 1\n"
        "  sysctl net.ipv4.conf.lan_s1.arp_ignore = 1\n"
        "  sysctl net.ipv4.conf.lan_s2.arp_ignore = 1\n"
        "  limit net.core.netdev_max_backlog >= 2048\n"
        "  limit net.ipv4.neigh.default.gc_thresh2 >= 3072\n"
        "  limit net.ipv4.neigh.default.gc_thresh3 >= 3072\n"
        "  bridge lan 10.60.0.1/20\n"
        "  bridge lan_s1 link_local false\n"
        "  veth lan_u1 peer host/lan_d1 master lan link_local false\n"
        "  veth lan_d1 peer host/lan_u1 master lan_s1 link_local false\n"
        "  bridge lan_s2 link_local false\n"
        "  veth lan_u2 peer host/lan_d2 master lan link_local false\n"
        "  veth lan_d2 peer host/lan_u2 master lan_s2 link_local false\n"
        "  veth lan-m1 peer m1/eth0 master lan_s1 link_local false\n"
        "  veth lan-m1001 peer m1001/eth0 master lan_s2 link_local false\n"
        "netns m1\n"
        "  veth eth0 peer host/lan-m1 10.60.0.2/20 link_local false\n"
        "  route default via 10.60.0.1\n"
        "netns m1001\n"
        "  veth eth0 peer host/lan-m1001 10.60.3.234/20 link_local false\n"
        "  route default via 10.60.0.1\n");
}
