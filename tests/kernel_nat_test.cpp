// NAT against a real kernel, each case in its own sandbox: real TCP through the port mapping
// and the masquerade, `nft` as the independent witness that foreign tables stay
// byte-identical, that a batch refused in flight leaves nothing half-made, and that the
// rules topo makes are the very rules nft makes from the shell plan.
#include "tests/kernel_harness.h"
#include "tests/rule_shapes.h"

using namespace topo::test;

namespace {

// A TCP server on port 80 (both families) that tells each client the address it sees, and
// a client that prints what it is told. Python, because Debian has it everywhere
// (scripts/deps.sh installs python3); the servers are killed before the sandbox ends.
const std::string kTcpBothFamilies =
    std::string(kListening) +
    "server() { ip netns exec $1 timeout 60 python3 -c '\n"
    "import socket\n"
    "s = socket.socket(socket.AF_INET6)\n"
    "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind((\"::\", 80)); s.listen(8)\n"
    "while True:\n"
    "    c, peer = s.accept()\n"
    "    c.sendall((\"'$1' sees \" + peer[0].removeprefix(\"::ffff:\") + \"\\n\").encode()); c.close()\n"
    "' > /run/server-$1.log 2>&1 &\n"
    "  listening $1 80; }\n"
    "client() { ${1:+ip netns exec $1} python3 -c '\n"
    "import socket, sys\n"
    "try:\n"
    "    print(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).recv(100).decode(), end=\"\")\n"
    "except OSError as e:\n"
    "    print(sys.argv[1], sys.argv[2], e)\n"
    "' $2 $3; }\n"
    "stop_servers() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; }\n";

// Docker's -p 8080:80 in both families: web serves on port 80 behind br0; client is a lab
// namespace on another link of host.
const char* kPortMap = R"(lab = "web"
[host]
sysctl = { "net.ipv4.ip_forward" = 1, "net.ipv6.conf.all.forwarding" = 1 }
[[netns]]
name = "web"
[[netns]]
name = "client"
[[bridge]]
name = "br0"
addresses = ["10.0.0.1/24", "fd00::1/64"]
[[veth]]
a = { netns = "web", name = "eth0", addresses = ["10.0.0.2/24", "fd00::2/64"] }
b = { name = "web-p", master = "br0" }
[[veth]]
a = { netns = "client", name = "eth0", addresses = ["10.1.0.2/24", "fd01::2/64"] }
b = { name = "client-p", addresses = ["10.1.0.1/24", "fd01::1/64"] }
[[route]]
netns = "web"
to = "default"
via = "10.0.0.1"
[[route]]
netns = "web"
to = "::/0"
via = "fd00::1"
[[route]]
netns = "client"
to = "default"
via = "10.1.0.1"
[[route]]
netns = "client"
to = "::/0"
via = "fd01::1"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "10.0.0.2:80"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "[fd00::2]:80"
)";

// A namespace behind a router namespace: outside has no route back to 10.0.0.0/24 or
// fd00::/64, so only the router's masquerade lets inside reach it.
const char* kMasquerade = R"(lab = "masq"
[[netns]]
name = "inside"
[[netns]]
name = "router"
sysctl = { "net.ipv4.ip_forward" = 1, "net.ipv6.conf.all.forwarding" = 1 }
[[netns]]
name = "outside"
[[veth]]
a = { netns = "inside", name = "eth0", addresses = ["10.0.0.2/24", "fd00::2/64"] }
b = { netns = "router", name = "in0", addresses = ["10.0.0.1/24", "fd00::1/64"] }
[[veth]]
a = { netns = "router", name = "out0", addresses = ["192.168.100.1/24", "fd01::1/64"] }
b = { netns = "outside", name = "eth0", addresses = ["192.168.100.2/24", "fd01::2/64"] }
[[route]]
netns = "inside"
to = "default"
via = "10.0.0.1"
[[route]]
netns = "inside"
to = "::/0"
via = "fd00::1"
[[nat]]
netns = "router"
kind = "masquerade"
source = "10.0.0.0/24"
out = "out0"
[[nat]]
netns = "router"
kind = "masquerade"
source = "fd00::/64"
out = "out0"
)";

// port-mapping.toml with its port mapped from 8081 instead of 8080: an edit of the lab's table.
std::string edited_port(const std::string& lab) { return edited(lab, "[\"8080:80\"]", "[\"8081:80\"]"); }

}  // namespace

TEST_CASE("kernel: port mapping, end to end over TCP, from a lab namespace and from host", "[kernel][nat]") {
  Run r = in_sandbox({{"L", kPortMap}},
                     kTcpBothFamilies +
                         "$TOPO apply $L | sed 's/in [0-9.]* s/in T s/'\n"
                         "$TOPO plan --detailed-exitcode $L\n"
                         "server web\n"
                         "client client 10.1.0.1 8080\n"  // host's address on client's link
                         "client client fd01::1 8080\n"
                         "client '' 10.1.0.1 8080\n"  // from host itself: the output chain
                         "client '' fd00::1 8080\n"
                         "client client 10.1.0.1 8081 | sed 's/\\[Errno [0-9]*\\] //'\n"  // only 8080 is mapped
                         "stop_servers\n"
                         "$TOPO destroy $L > /dev/null\n"
                         "nft list ruleset | wc -c\n");
  check_prints(r,
               "Applied lab 'web': 14 added, 2 changed, 0 destroyed (12 steps in T s).\n"
               "No changes. The kernel matches the lab.\n"
               "web sees 10.1.0.2\n"
               "web sees fd01::2\n"
               "web sees 10.1.0.1\n"
               "web sees fd00::1\n"
               "10.1.0.1 8081 Connection refused\n"
               "0\n");
}

TEST_CASE("kernel: masquerade, end to end: outside sees the router's address", "[kernel][nat]") {
  std::string bare = kMasquerade;
  bare.erase(bare.find("[[nat]]"));
  Run r = in_sandbox({{"L", kMasquerade}, {"BARE", bare}},
                     kTcpBothFamilies +
                         "$TOPO apply $L > /dev/null\n"
                         "$TOPO plan --detailed-exitcode $L\n"
                         "ip netns exec router nft list ruleset\n"
                         "server outside\n"
                         "client inside 192.168.100.2 80\n"
                         "client inside fd01::2 80\n"
                         "$TOPO plan $BARE | grep -E 'nat|nft'\n"
                         "$TOPO apply $BARE > /dev/null\n"  // without it, outside cannot answer
                         "client inside 192.168.100.2 80\n"
                         "stop_servers\n");
  check_prints(r,
               "No changes. The kernel matches the lab.\n"
               "table inet topo-masq {\n"
               "\tcomment \"topo:masq\"\n"
               "\tchain prerouting {\n"
               "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
               "\t}\n"
               "\n"
               "\tchain output {\n"
               "\t\ttype nat hook output priority -100; policy accept;\n"
               "\t}\n"
               "\n"
               "\tchain postrouting {\n"
               "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
               "\t\tip saddr 10.0.0.0/24 oifname \"out0\" masquerade\n"
               "\t\tip6 saddr fd00::/64 oifname \"out0\" masquerade\n"
               "\t}\n"
               "}\n"
               "outside sees 192.168.100.1\n"
               "outside sees fd01::1\n"
               "  - nft table inet topo-masq\n"
               "  - nat masquerade 10.0.0.0/24 out out0 (postrouting)\n"
               "  - nat masquerade fd00::/64 out out0 (postrouting)\n"
               "192.168.100.2 80 timed out\n");
}

TEST_CASE("kernel: a masquerade out '!IF' rewrites what leaves by any other interface", "[kernel][nat]") {
  // Docker's own rule is `-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`: everything from the
  // containers that leaves by another interface than their bridge. Here the bridge side is in0.
  std::string negated = kMasquerade;
  for (size_t at; (at = negated.find("out = \"out0\"")) != std::string::npos;)
    negated.replace(at, 12, "out = \"!in0\"");
  Run r = in_sandbox({{"L", negated}},
                     std::string(kTcpBothFamilies) +
                         "$TOPO apply $L > /dev/null\n"
                         "$TOPO plan --detailed-exitcode $L\n"
                         "ip netns exec router nft list chain inet topo-masq postrouting | grep masquerade\n"
                         "server outside\n"
                         "client inside 192.168.100.2 80\n"
                         "client inside fd01::2 80\n"
                         "stop_servers\n");
  check_prints(r,
               "No changes. The kernel matches the lab.\n"
               "\t\tip saddr 10.0.0.0/24 oifname != \"in0\" masquerade\n"
               "\t\tip6 saddr fd00::/64 oifname != \"in0\" masquerade\n"
               "outside sees 192.168.100.1\n"
               "outside sees fd01::1\n");
}

TEST_CASE("kernel: foreign tables stay byte-identical through apply and destroy", "[kernel][nat]") {
  // What Docker (iptables-nft), firewalld and a hand-made inet table leave in host.
  Run r =
      in_sandbox({{"L", topology("port-mapping.toml")}},
                 std::string(kRules) +
                     "nft -f - <<'EOF'\n"
                     "table ip nat {\n"
                     "  chain PREROUTING { type nat hook prerouting priority dstnat; policy accept; fib daddr type "
                     "local counter jump DOCKER; }\n"
                     "  chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept; ip saddr "
                     "172.17.0.0/16 oifname != \"docker0\" counter masquerade; }\n"
                     "  chain DOCKER { iifname \"docker0\" counter return; }\n"
                     "}\n"
                     "table inet firewalld {\n"
                     "  chain filter_INPUT { type filter hook input priority filter + 10; policy accept; ct state "
                     "established,related accept; }\n"
                     "  chain nat_POSTROUTING { type nat hook postrouting priority srcnat + 10; policy accept; }\n"
                     "}\n"
                     "table inet topo-other { comment \"topo:other\"; chain postrouting { type nat hook postrouting "
                     "priority 100; masquerade; }; }\n"
                     "EOF\n"
                     "rules > /run/before\n"
                     "for t in 'ip nat' 'inet firewalld' 'inet topo-other'; do nft list table $t; done > /run/foreign\n"
                     "$TOPO apply $L > /dev/null\n"
                     "for t in 'ip nat' 'inet firewalld' 'inet topo-other'; do nft list table $t; done | cmp - "
                     "/run/foreign && echo 'same after apply'\n"
                     "nft list tables\n"
                     "$TOPO destroy $L > /dev/null\n"
                     "rules | cmp - /run/before && echo 'same after destroy'\n");
  check_prints(r,
               "same after apply\n"
               "table ip nat\n"
               "table inet firewalld\n"
               "table inet topo-other\n"
               "table inet topo-portmap\n"
               "same after destroy\n");
}

TEST_CASE("kernel: a table of the lab's name that is not the lab's is a conflict, untouched", "[kernel][nat]") {
  Run r = in_sandbox({{"L", topology("port-mapping.toml")}},
                     "nft add table inet topo-portmap\nnft add chain inet topo-portmap mine\n"
                     "nft list ruleset > /run/before\n"
                     "$TOPO apply $L 2>&1 | grep -e conflict -e refused\n"
                     "nft list ruleset | cmp - /run/before && echo same\n"
                     "nft delete table inet topo-portmap\n"
                     "nft add table inet topo-portmap '{ comment \"topo:db\"; }'\n"
                     "$TOPO plan $L | grep conflict\n"
                     "$TOPO destroy $L\n"
                     "nft list tables\n");
  check_prints(r,
               "  ! conflict: nftables table inet topo-portmap exists and is not the lab's (no comment)\n"
               "1 conflict: topo does not touch what is not the lab's; apply would refuse.\n"
               "topo: apply refused: nothing was changed.\n"
               "same\n"
               "  ! conflict: nftables table inet topo-portmap belongs to lab 'db'\n"
               "1 conflict: topo does not touch what is not the lab's; apply would refuse.\n"
               "No changes. The kernel matches the lab.\n"
               "table inet topo-portmap\n");
}

TEST_CASE("kernel: a batch refused in flight leaves no table half-made, and the old one in force", "[kernel][nat]") {
  std::string lab = topology("port-mapping.toml");
  std::string edited = edited_port(lab) + "[[nat]]\nkind = \"snat\"\nsource = \"172.19.1.0/24\"\nto = \"172.19.0.1\"\n";
  Run r = in_sandbox({{"L", lab}, {"E", edited}}, std::string(kRules) + R"sh(nft add table ip keep
rules > /run/before
TOPO_TEST_FAIL_NFT=1 $TOPO apply $L 2>&1 | tail -1
rules | cmp - /run/before && echo 'nothing made'
$TOPO apply $L > /dev/null
rules > /run/applied
TOPO_TEST_FAIL_NFT=1 $TOPO apply $E 2>&1 | grep -e failed -e refuses -e 'rolled back'
rules | cmp - /run/applied && echo 'old table in force'
$TOPO plan --detailed-exitcode $L
$TOPO apply $E > /dev/null && $TOPO plan --detailed-exitcode $E
)sh");
  check_prints(r,
               "rolled back: the kernel is as it was.\n"
               "nothing made\n"
               "topo: apply failed at step 1 of 1: host: ~ nft table inet topo-portmap: 2 rules added, 1 removed\n"
               "rolled back: the kernel is as it was.\n"
               "old table in force\n"
               "No changes. The kernel matches the lab.\n"
               "No changes. The kernel matches the lab.\n");
}

TEST_CASE("kernel: the lab's table is deleted by its handle: one swapped in after the plan is left alone",
          "[kernel][nat]") {
  // Deleted by name, a table of the same name and mark made between the plan and its step
  // (another run, a person) was deleted in its place, whatever it held.
  std::string lab = topology("port-mapping.toml");
  Run r = in_sandbox({{"L", lab}, {"E", edited_port(lab)}},
                     "$TOPO apply $L > /dev/null\n"
                     "TOPO_TEST_AFTER_PLAN='nft delete table inet topo-portmap &&"
                     " nft add table inet topo-portmap \"{ comment \\\"topo:portmap\\\"; }\" &&"
                     " nft add chain inet topo-portmap swapped'"
                     " $TOPO apply $E 2>&1 | grep -e failed -e deleting\n"
                     "nft list table inet topo-portmap | grep -c 'chain swapped'\n");
  check_prints(
      r,
      "topo: apply failed at step 1 of 1: host: ~ nft table inet topo-portmap: 1 rule added, 1 removed\n"
      "  deleting nftables table inet topo-portmap in namespace host: No such file or directory; the kernel took "
      "none of the batch\n"
      "1\n");
}

TEST_CASE("kernel: a rule added by hand to the lab's table is seen, and apply puts the table right", "[kernel][nat]") {
  Run r = in_sandbox({{"L", topology("port-mapping.toml")}},
                     "$TOPO apply $L > /dev/null\n"
                     "nft add rule inet topo-portmap postrouting ip saddr 10.9.0.0/16 counter masquerade\n"
                     "nft insert rule inet topo-portmap prerouting tcp dport 22 dnat ip to 10.9.0.1\n"
                     "$TOPO plan --detailed-exitcode $L || echo \"exit $?\"\n"
                     "$TOPO apply $L > /dev/null\n"
                     "$TOPO plan $L\n");
  check_prints(r,
               "namespace host\n"
               "  - nat rule topo does not make: [ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ] "
               "[ payload load 2b @ transport header + 2 => reg 1 ] [ cmp eq reg 1 0x00001600 ] "
               "[ immediate reg 1 0x0100090a ] [ nat dnat ip addr_min reg 1 addr_max reg 1 flags 0x1 ] (prerouting)\n"
               "  - nat rule topo does not make: [ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
               "[ payload load 2b @ network header + 12 => reg 1 ] [ cmp eq reg 1 0x0000090a ] "
               "[ counter pkts 0 bytes 0 ] [ masq ] (postrouting)\n"
               "\n"
               "Plan: 0 to add, 0 to change, 2 to destroy.\n"
               "exit 2\n"
               "No changes. The kernel matches the lab.\n");
}

TEST_CASE("kernel: topo makes the very rules nft makes from the shell plan, every shape", "[kernel][nat]") {
  check_rules_as_nft_makes(
      kNatShapes, {"[ bitwise reg 1 = ( reg 1 & 0x0000f0ff ) ^ 0x00000000 ]",
                   "[ nat dnat ip6 addr_min reg 1 addr_max reg 1 proto_min reg 2 proto_max reg 2 flags 0x3 ]"});
}

TEST_CASE("kernel: NAT steps fail, and are killed, at every point without leaving anything behind", "[kernel][nat]") {
  // bridge.toml: its NAT step comes before a file step, so a failure there undoes a batch.
  Run r =
      in_sandbox({{"L", topology("bridge.toml")}},
                 std::string(kRules) +
                     "nft add table ip keep\n"
                     "witness() { rules; ip -br link; ip netns; ls -R /etc/netns; }\n"
                     "witness > /run/pristine\n"
                     "n=$($TOPO plan --format json $L | grep -c '\"action\"')\n"
                     "for k in $(seq 1 $n); do\n"
                     "  TOPO_TEST_FAIL_STEP=$k $TOPO apply $L > /run/out 2>&1 && echo \"step $k: applied\"\n"
                     "  grep -q 'rolled back: the kernel is as it was' /run/out || { echo \"step $k: no rollback\"; "
                     "cat /run/out; }\n"
                     "  witness | cmp -s - /run/pristine || echo \"step $k: not as it was\"\n"
                     "done\n"
                     // The NAT batch refused: rolled back. The batch that undoes it refused (after
                     // the file step, the last, fails): what is left is said, and destroy clears it.
                     "TOPO_TEST_FAIL_NFT=1 $TOPO apply $L 2>&1 | tail -1\n"
                     "witness | cmp -s - /run/pristine || echo 'not as it was'\n"
                     "TOPO_TEST_FAIL_NFT=2 TOPO_TEST_FAIL_STEP=$n $TOPO apply $L > /run/out 2>&1 || echo \"exit $?\"\n"
                     "grep -e 'undoing step' -e 'left behind' -A1 /run/out\n"
                     "nft list tables\n"
                     "$TOPO destroy $L > /dev/null\n"
                     "witness | cmp -s - /run/pristine || echo 'destroy left something'\n"
                     "exec 2>/dev/null  # bash's 'Killed' notices\n"
                     "for k in $(seq 1 $n); do\n"
                     "  TOPO_TEST_KILL_STEP=$k $TOPO apply $L > /dev/null && echo \"step $k: not killed\"\n"
                     "  $TOPO apply $L > /dev/null\n"
                     "  $TOPO plan --detailed-exitcode $L > /dev/null || echo \"step $k: apply did not converge\"\n"
                     "  TOPO_TEST_KILL_STEP=1 $TOPO destroy $L > /dev/null && echo \"step $k: destroy not killed\"\n"
                     "  $TOPO destroy $L > /dev/null\n"
                     "  witness | cmp -s - /run/pristine || echo \"step $k: left behind\"\n"
                     "done\necho \"$n steps\"\n");
  check_prints(r,
               "rolled back: the kernel is as it was.\n"
               "exit 3\n"
               "topo: undoing step 10 failed: adding the rule a test asks the kernel to refuse to nftables table "
               "inet topo-bridge in namespace host: No such file or directory; the kernel took none of the batch\n"
               "topo: the rollback is incomplete; left behind:\n"
               "  namespace host:\n"
               "table ip keep\n"
               "table inet topo-bridge\n"
               "11 steps\n");
}
