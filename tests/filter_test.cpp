// [[filter]], bridge isolation and chain policies in the pure core: the filter chains of the
// lab's table, the plan's lines, nft's syntax for each rule shape, and the reader's checks.
// Inline TOML in, exact text out; no kernel.
#include "planner/filter.h"
#include "planner/nat.h"
#include "tests/plans.h"

using namespace topo::test;

namespace {

// DOCKER-USER's example, two isolated bridges, and a drop policy in a namespace.
const char* kLab = R"(lab = "web"
[[netns]]
name = "red"
[netns.policy]
input = "drop"
[[bridge]]
name = "br1"
isolate = true
[[bridge]]
name = "br2"
isolate = true
[[bridge]]
name = "br3"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "10.0.0.2:80"
[[filter]]
chain = "forward"
action = "drop"
in = "eth0"
source = "!192.168.1.0/24"
proto = "tcp"
port = 80
[[filter]]
chain = "forward"
action = "accept"
destination = "fd00::/64"
out = "!br3"
proto = "udp"
port = [53, "5000-5100"]
state = ["new", "established"]
[[filter]]
netns = "red"
chain = "input"
action = "accept"
state = "established"
[[filter]]
netns = "red"
chain = "input"
action = "reject"
proto = "icmpv6"
)";

std::string chains_text(const std::optional<NftTable>& t) {
  if (!t) return "none\n";
  std::string out;
  for (const NftChain& c : t->chains) {
    out += fmt::format("{} {} {} {} {}\n", c.name, c.type, c.hook, c.priority, c.policy);
    for (const NftRule& r : c.rules) out += "  " + *nft_syntax(r) + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("filter: rules in file order, isolation after them, chains only where needed", "[filter]") {
  State s = expected_state(lab(kLab));
  CHECK(
      chains_text(s.namespaces.at("host").nat) ==
      "prerouting nat prerouting -100 accept\n"
      "  meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80\n"
      "output nat output -100 accept\n"
      "  meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80\n"
      "postrouting nat postrouting 100 accept\n"
      "filter-forward filter forward -10 accept\n"
      "  meta nfproto ipv4 ip saddr != 192.168.1.0/24 iifname \"eth0\" tcp dport 80 drop\n"
      "  meta nfproto ipv6 ip6 daddr fd00::/64 oifname != \"br3\" udp dport 53 ct state established,new accept\n"
      "  meta nfproto ipv6 ip6 daddr fd00::/64 oifname != \"br3\" udp dport 5000-5100 ct state established,new accept\n"
      "  iifname \"br1\" oifname \"br2\" drop\n"
      "  iifname \"br2\" oifname \"br1\" drop\n");
  // No NAT in red: the table holds the filter chain alone; the policy makes it drop.
  CHECK(chains_text(s.namespaces.at("red").nat) ==
        "filter-input filter input -10 drop\n"
        "  ct state established accept\n"
        "  meta l4proto ipv6-icmp reject with icmpx port-unreachable\n");
  // A policy alone is a chain; one isolated bridge isolates nothing.
  State p = expected_state(
      lab("lab = \"web\"\n[host.policy]\noutput = \"drop\"\n[[bridge]]\nname = \"b\"\nisolate = true\n"));
  CHECK(chains_text(p.namespaces.at("host").nat) == "filter-output filter output -10 drop\n");
  CHECK(chains_text(
            expected_state(lab("lab = \"web\"\n[host.policy]\nforward = \"accept\"\n")).namespaces.at("host").nat) ==
        "none\n");
  // A list isolates from the bridges it names only: c is isolated from a, a and b still talk.
  State list =
      expected_state(lab("lab = \"web\"\n[[bridge]]\nname = \"a\"\n[[bridge]]\nname = \"b\"\n"
                         "[[bridge]]\nname = \"c\"\nisolate = [\"a\"]\n"));
  CHECK(chains_text(list.namespaces.at("host").nat) ==
        "filter-forward filter forward -10 accept\n"
        "  iifname \"a\" oifname \"c\" drop\n"
        "  iifname \"c\" oifname \"a\" drop\n");
}

TEST_CASE("filter: the plan shows each rule on a line, and a rule taken out is exactly one line", "[filter]") {
  State expected = expected_state(lab(kLab));
  Plan p = plan_for(expected, empty_kernel());
  std::string text = plan_text(p);
  CHECK(text.find("  + filter forward: drop tcp dport 80 from !192.168.1.0/24 in eth0\n") != std::string::npos);
  CHECK(text.find("  + filter forward: accept udp dport 5000-5100 to fd00::/64 out !br3 state established,new\n") !=
        std::string::npos);
  CHECK(text.find("  + filter forward: drop in br2 out br1\n") != std::string::npos);
  CHECK(text.find("  + filter input: reject icmpv6\n") != std::string::npos);
  CHECK(plan_text(plan_for(expected, applied(expected))) == "No changes. The kernel matches the lab.\n");

  std::string without(kLab);
  std::string rule =
      "[[filter]]\nchain = \"forward\"\naction = \"drop\"\nin = \"eth0\"\nsource = \"!192.168.1.0/24\"\n"
      "proto = \"tcp\"\nport = 80\n";
  without.erase(without.find(rule), rule.size());
  CHECK(plan_text(plan_for(expected_state(lab(without)), applied(expected))) ==
        "namespace host\n"
        "  - filter forward: drop tcp dport 80 from !192.168.1.0/24 in eth0\n"
        "\n"
        "Plan: 0 to add, 0 to change, 1 to destroy.\n");

  // An empty accept chain left in the table (by hand) is said, not hidden.
  State hand = applied(expected);
  NftChain empty;
  empty.name = "filter-output";
  empty.type = "filter";
  empty.hook = "output";
  empty.priority = kFilterPriority;
  empty.policy = "accept";
  hand.namespaces.at("host").nat->chains.push_back(empty);
  CHECK(plan_text(plan_for(expected, hand)) ==
        "namespace host\n"
        "  ~ nft table inet topo-web: chain filter-output is not topo's\n"
        "\n"
        "Plan: 0 to add, 1 to change, 0 to destroy.\n");

  // A policy changed is the table's chain, in place.
  std::string dropping = std::string(kLab) + "[host.policy]\nforward = \"drop\"\n";
  CHECK(plan_text(plan_for(expected_state(lab(dropping)), applied(expected))) ==
        "namespace host\n"
        "  ~ nft table inet topo-web: chain filter-forward: type filter hook forward priority -10 policy accept -> "
        "type filter hook forward priority -10 policy drop\n"
        "\n"
        "Plan: 0 to add, 1 to change, 0 to destroy.\n");
}

TEST_CASE("filter: the reader checks every key", "[filter]") {
  CHECK(
      errors("lab = \"web\"\n[[filter]]\nchain = \"forward\"\naction = \"drop\"\nproto = \"icmpv6\"\nport = [22]\n") ==
      std::vector<std::string>{"6:1: 'port' in [[filter]] needs proto tcp or udp, not icmpv6"});
  CHECK(errors("lab = \"web\"\n[[filter]]\nchain = \"output\"\naction = \"drop\"\nin = \"!eth0\"\n") ==
        std::vector<std::string>{
            "5:1: 'in' does not apply to the output chain: packets the namespace makes have no input interface"});
  CHECK(errors("lab = \"web\"\n[[filter]]\nchain = \"forward\"\naction = \"drop\"\nstate = []\n") ==
        std::vector<std::string>{"5:9: 'state' in [[filter]] is an empty list"});
  CHECK(errors("lab = \"web\"\n[[filter]]\nchain = \"forward\"\naction = \"drop\"\nin = \"!\"\n").size() == 1);
  Lab l = lab("lab = \"web\"\n[[filter]]\nchain = \"forward\"\naction = \"drop\"\nin = \"!eth0\"\nout = \"br0\"\n");
  REQUIRE(l.filters.size() == 1);
  CHECK(l.filters[0].in->value == "eth0");
  CHECK(l.filters[0].not_in);
  CHECK_FALSE(l.filters[0].not_out);
}
