// NAT in the pure core: the lab's [[nat]] entries as the content of its nftables table, the
// differ's changes and conflicts, the plan's lines and steps, and the shell and JSON faces.
// Inline TOML in, exact text out; no kernel.
#include "planner/nat.h"
#include "planner/render_json.h"
#include "planner/render_shell.h"
#include "tests/plans.h"

using namespace topo::test;

namespace {

const char* kNatLab = R"(lab = "web"
[[netns]]
name = "red"
[[nat]]
kind = "masquerade"
source = "10.0.0.0/24"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "10.0.0.2:80"
[[nat]]
kind = "dnat"
proto = "udp"
port = 53
to = "[fd00::2]:5353"
in = "uplink"
[[nat]]
netns = "red"
kind = "snat"
source = "fd00::/64"
to = "fd00::1"
out = "eth0"
[[nat]]
netns = "red"
kind = "masquerade"
out = "up0"
)";

// The table in one line per chain and rule, for exact comparisons.
std::string table_text(const std::optional<NftTable>& t) {
  if (!t) return "none\n";
  std::string out = "table inet " + t->name + " comment " + t->mark + "\n";
  for (const NftChain& c : t->chains) {
    out +=
        fmt::format("  chain {} type {} hook {} priority {} policy {}\n", c.name, c.type, c.hook, c.priority, c.policy);
    for (const NftRule& r : c.rules) out += "    " + *nft_syntax(r) + "\n";
  }
  return out;
}

NftRule foreign_rule() {
  NftRule r;
  r.foreign = "[ counter pkts 0 bytes 0 ]";
  return r;
}

}  // namespace

TEST_CASE("nat: each rule goes to its chains, in the file's order, in the table of its namespace", "[nat]") {
  State s = expected_state(lab(kNatLab));
  CHECK(table_text(s.namespaces.at("host").nat) ==
        "table inet topo-web comment topo:web\n"
        "  chain prerouting type nat hook prerouting priority -100 policy accept\n"
        "    meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80\n"
        "    meta nfproto ipv6 fib daddr type local iifname \"uplink\" udp dport 53 dnat ip6 to [fd00::2]:5353\n"
        "  chain output type nat hook output priority -100 policy accept\n"
        "    meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80\n"
        "  chain postrouting type nat hook postrouting priority 100 policy accept\n"
        "    meta nfproto ipv4 ip saddr 10.0.0.0/24 masquerade\n");
  CHECK(table_text(s.namespaces.at("red").nat) ==
        "table inet topo-web comment topo:web\n"
        "  chain prerouting type nat hook prerouting priority -100 policy accept\n"
        "  chain output type nat hook output priority -100 policy accept\n"
        "  chain postrouting type nat hook postrouting priority 100 policy accept\n"
        "    meta nfproto ipv6 ip6 saddr fd00::/64 oifname \"eth0\" snat ip6 to fd00::1\n"
        "    oifname \"up0\" masquerade\n");
  CHECK(table_text(expected_state(lab("lab = \"web\"\n")).namespaces.at("host").nat) == "none\n");
}

TEST_CASE("nat: the plan shows the table and each rule once, with its chains", "[nat]") {
  State expected = expected_state(lab(kNatLab));
  Plan p = plan_for(expected, empty_kernel());
  CHECK(plan_text(p) ==
        "namespace host\n"
        "  + nft table inet topo-web\n"
        "  + nat dnat tcp 8080 -> 10.0.0.2:80 (prerouting, output)\n"
        "  + nat dnat udp 53 -> [fd00::2]:5353 in uplink (prerouting)\n"
        "  + nat masquerade 10.0.0.0/24 (postrouting)\n"
        "namespace red\n"
        "  + netns red\n"
        "  + nft table inet topo-web\n"
        "  + nat snat fd00::/64 -> fd00::1 out eth0 (postrouting)\n"
        "  + nat masquerade out up0 (postrouting)\n"
        "\n"
        "Plan: 8 to add, 0 to change, 0 to destroy.\n");
  // One step per table, after everything else in its namespace is made.
  CHECK(steps_text(p) ==
        "red: + netns red\n"
        "host: + nft table inet topo-web: 3 rules\n"
        "red: + nft table inet topo-web: 2 rules\n");
  CHECK(plan_text(plan_for(expected, applied(expected))) == "No changes. The kernel matches the lab.\n");
}

TEST_CASE("nat: an edited rule is one rule out and one in, in a single step", "[nat]") {
  State expected = expected_state(lab(kNatLab));
  State observed = applied(expected);
  std::string edited = kNatLab;
  edited.replace(edited.find("port = 8080"), 11, "port = 8081");
  Plan p = plan_for(expected_state(lab(edited)), observed);
  CHECK(plan_text(p) ==
        "namespace host\n"
        "  - nat dnat tcp 8080 -> 10.0.0.2:80 (prerouting, output)\n"
        "  + nat dnat tcp 8081 -> 10.0.0.2:80 (prerouting, output)\n"
        "\n"
        "Plan: 1 to add, 0 to change, 1 to destroy.\n");
  REQUIRE(p.steps.size() == 1);
  CHECK(describe(p.steps[0]) == "host: ~ nft table inet topo-web: 1 rule added, 1 removed");
  // The inverse puts the whole table back as it was.
  Step inverse = p.steps[0].inverse();
  const auto& undo = std::get<TableDelta>(inverse.subject);
  CHECK(undo.after == observed.namespaces.at("host").nat);
  CHECK(undo.before == expected_state(lab(edited)).namespaces.at("host").nat);
}

TEST_CASE("nat: rules in another order, or a table not as topo makes it, are rewritten", "[nat]") {
  State expected = expected_state(lab(kNatLab));
  State observed = applied(expected);
  auto& post = observed.namespaces.at("red").nat->chains[2].rules;
  std::swap(post[0], post[1]);
  observed.namespaces.at("host").nat->chains[0].priority = 0;
  observed.namespaces.at("host").nat->chains[1].rules.push_back(foreign_rule());
  CHECK(plan_text(plan_for(expected, observed)) ==
        "namespace host\n"
        "  ~ nft table inet topo-web: chain prerouting: type nat hook prerouting priority 0 policy accept -> "
        "type nat hook prerouting priority -100 policy accept\n"
        "  - nat rule topo does not make: [ counter pkts 0 bytes 0 ] (output)\n"
        "namespace red\n"
        "  ~ nft table inet topo-web: rules in another order\n"
        "\n"
        "Plan: 0 to add, 2 to change, 1 to destroy.\n");
  CHECK(steps_text(plan_for(expected, observed)) ==
        "host: ~ nft table inet topo-web: 0 rules added, 1 removed\n"
        "red: ~ nft table inet topo-web: rewritten as topo makes it\n");
}

TEST_CASE("nat: a table of the lab's name without its mark is a conflict, and never touched", "[nat]") {
  State expected = expected_state(lab(kNatLab));
  State observed = applied(expected);
  observed.namespaces.at("host").nat->mark = "";
  observed.namespaces.at("red").nat->mark = "topo:db";
  CHECK(describe(diff(expected, observed, "web")) ==
        "conflict: nftables table inet topo-web exists and is not the lab's (no comment)\n"
        "conflict: nftables table inet topo-web belongs to lab 'db'\n");
  // Where the lab wants no NAT, someone else's table of that name is simply not the lab's.
  State none = expected_state(lab("lab = \"web\"\n"));
  State foreign = empty_kernel();
  foreign.namespaces["host"].nat = NftTable{"topo-web", "", 0, nat_chains()};
  CHECK(describe(diff(none, foreign, "web")) == "");
}

TEST_CASE("nat: NAT dropped from the file is removed first, and a namespace takes its table along", "[nat]") {
  State observed = applied(expected_state(lab(std::string(kNatLab) + "[[bridge]]\nname = \"br0\"\n")));
  Plan p = plan_for(expected_state(lab("lab = \"web\"\n[[bridge]]\nname = \"br0\"\n[[bridge]]\nname = \"br1\"\n")),
                    observed);
  CHECK(plan_text(p) ==
        "namespace host\n"
        "  + bridge br1 mtu 1500\n"
        "  - nft table inet topo-web\n"
        "  - nat dnat tcp 8080 -> 10.0.0.2:80 (prerouting, output)\n"
        "  - nat dnat udp 53 -> [fd00::2]:5353 in uplink (prerouting)\n"
        "  - nat masquerade 10.0.0.0/24 (postrouting)\n"
        "namespace red\n"
        "  - netns red\n"
        "\n"
        "Plan: 1 to add, 0 to change, 5 to destroy.\n");
  CHECK(steps_text(p) ==
        "host: - nft table inet topo-web: 3 rules\n"
        "red: - netns red\n"
        "    with red: - nft table inet topo-web: 2 rules\n"
        "host: + bridge br1 mtu 1500\n");
  // Undoing the namespace's removal makes it again, and its table last.
  CHECK(describe(p.steps[1].inverse()) ==
        "red: + netns red\n"
        "    with red: + nft table inet topo-web: 2 rules");
}

TEST_CASE("nat: --format shell writes the table as one nft -f file", "[nat][render]") {
  std::string toml = R"(lab = "web"
[[netns]]
name = "red"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "10.0.0.2:80"
[[nat]]
netns = "red"
kind = "masquerade"
source = "10.1.0.0/20"
out = "eth0"
)";
  State expected = expected_state(lab(toml));
  State observed = empty_kernel();
  observed.namespaces["red"] = expected.namespaces.at("red");  // red exists, with an older table
  observed.namespaces["red"].nat->chains[2].rules[0].out = "eth1";
  CHECK(plan_shell(plan_for(expected, observed), expected, "web") == R"(#!/bin/bash
# made by `topo plan --format shell`: run as root, in the namespace topo runs in
set -euo pipefail

# host: + nft table inet topo-web: 1 rule
nft -f - <<'EOF'
table inet topo-web {
	comment "topo:web"
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80
	}
	chain output {
		type nat hook output priority -100; policy accept;
		meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
	}
}
EOF

# red: ~ nft table inet topo-web: 1 rule added, 1 removed
nsenter --net='/run/netns/red' nft -f - <<'EOF'
delete table inet topo-web
table inet topo-web {
	comment "topo:web"
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
	}
	chain output {
		type nat hook output priority -100; policy accept;
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		meta nfproto ipv4 ip saddr 10.1.0.0/20 oifname "eth0" masquerade
	}
}
EOF
)");
}

TEST_CASE("nat: --format shell deletes a table the file no longer has, in one nft -f file", "[nat][render]") {
  State observed = applied(expected_state(lab(kNatLab)));
  observed.namespaces.erase("red");
  State expected = expected_state(lab("lab = \"web\"\n"));
  std::string shell = plan_shell(plan_for(expected, observed), expected, "web");
  CHECK(shell.substr(shell.find("# host")) ==
        "# host: - nft table inet topo-web: 3 rules\n"
        "nft -f - <<'EOF'\n"
        "delete table inet topo-web\n"
        "EOF\n");
}

TEST_CASE("nat: a name nft cannot write exactly stops the shell script", "[nat][render]") {
  std::string toml = "lab = \"web\"\n[[nat]]\nkind = \"masquerade\"\nout = 'eth\"0'\n";
  State expected = expected_state(lab(toml));
  std::string shell = plan_shell(plan_for(expected, empty_kernel()), expected, "web");
  CHECK(shell.substr(shell.find("# host")) ==
        "# host: + nft table inet topo-web: 1 rule\n"
        "echo 'topo: nft cannot say this rule exactly: masquerade out eth\"0' >&2; exit 1\n");
  NftRule star;
  star.kind = RuleKind::masquerade;
  star.out = "eth*";
  CHECK_FALSE(nft_syntax(star));
}

TEST_CASE("nat: the JSON plan carries the whole table before and after", "[nat][render]") {
  std::string toml = R"(lab = "web"
[[nat]]
kind = "dnat"
proto = "udp"
port = 53
to = "fd00::2"
in = "up0"
)";
  State expected = expected_state(lab(toml));
  CHECK(
      plan_json(plan_for(expected, empty_kernel()), "web") ==
      R"({"format_version":1,"lab":"web","summary":{"add":2,"change":0,"destroy":0},"conflicts":[],"notes":[],"steps":[
{"action":"create","inverse":"remove","netns":"host","replace":false,"object":"nat","before":null,"after":{"family":"inet","name":"topo-web","mark":"topo:web","flags":0,"chains":[{"name":"prerouting","type":"nat","hook":"prerouting","priority":-100,"policy":"accept","rules":[{"kind":"dnat","family":"ipv6","source":null,"in":"up0","not_in":false,"out":null,"not_out":false,"proto":"udp","port":53,"to":"fd00::2","to_port":null}]},{"name":"output","type":"nat","hook":"output","priority":-100,"policy":"accept","rules":[]},{"name":"postrouting","type":"nat","hook":"postrouting","priority":100,"policy":"accept","rules":[]}]}}
]}
)");
}

TEST_CASE("nat: '!' before out or in matches every interface but that one, as in filter rules", "[nat]") {
  std::string toml = R"(lab = "web"
[[nat]]
kind = "masquerade"
source = "172.17.0.0/16"
out = "!docker9"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "172.17.0.2:80"
in = "!docker9"
)";
  State expected = expected_state(lab(toml));
  CHECK(table_text(expected.namespaces.at("host").nat) ==
        "table inet topo-web comment topo:web\n"
        "  chain prerouting type nat hook prerouting priority -100 policy accept\n"
        "    meta nfproto ipv4 fib daddr type local iifname != \"docker9\" tcp dport 8080 dnat ip to 172.17.0.2:80\n"
        "  chain output type nat hook output priority -100 policy accept\n"
        "  chain postrouting type nat hook postrouting priority 100 policy accept\n"
        "    meta nfproto ipv4 ip saddr 172.17.0.0/16 oifname != \"docker9\" masquerade\n");
  Plan p = plan_for(expected, empty_kernel());
  CHECK(plan_text(p) ==
        "namespace host\n"
        "  + nft table inet topo-web\n"
        "  + nat dnat tcp 8080 -> 172.17.0.2:80 in !docker9 (prerouting)\n"
        "  + nat masquerade 172.17.0.0/16 out !docker9 (postrouting)\n"
        "\n"
        "Plan: 3 to add, 0 to change, 0 to destroy.\n");
  std::string json = plan_json(p, "web");
  CHECK(json.find(R"("in":"!docker9")") == std::string::npos);
  CHECK(json.find(R"("in":"docker9","not_in":true,"out":null,"not_out":false)") != std::string::npos);
  CHECK(json.find(R"("in":null,"not_in":false,"out":"docker9","not_out":true)") != std::string::npos);
  // A rule with the name and one with its negation are two rules: the edit is planned.
  std::string plain = toml;
  plain.replace(plain.find("out = \"!docker9\""), 16, "out = \"docker9\"");
  CHECK(plan_text(plan_for(expected_state(lab(plain)), applied(expected))) ==
        "namespace host\n"
        "  - nat masquerade 172.17.0.0/16 out !docker9 (postrouting)\n"
        "  + nat masquerade 172.17.0.0/16 out docker9 (postrouting)\n"
        "\n"
        "Plan: 1 to add, 0 to change, 1 to destroy.\n");
}

TEST_CASE("nat: a bare '!' or a bad name after it is an error at the value", "[nat][validate]") {
  CHECK(errors("lab = \"web\"\n[[nat]]\nkind = \"masquerade\"\nout = \"!\"\n") ==
        Lines{"4:7: 'out' in [[nat]] masquerade is '!' without an interface name after it ('!eth0' is every "
              "interface but eth0)"});
  CHECK(errors("lab = \"web\"\n[[nat]]\nkind = \"dnat\"\nproto = \"tcp\"\nport = 80\nto = \"10.0.0.2\"\n"
               "in = \"!eth0/1\"\n") == Lines{"7:6: interface name 'eth0/1' has character '/', which is not allowed"});
}
