// topo apply and destroy against a real kernel, each case in its own sandbox, with `ip` and
// /proc as the witnesses: apply reaches the file's state, a failed apply leaves the kernel
// as it was, destroy removes the lab's objects and nothing else.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "tests/files.h"

using namespace topo::test;

namespace {

const char* kLab = R"(lab = "web"
[host]
sysctl = { "net.ipv4.ip_forward" = 1 }
[[netns]]
name = "red"
hosts = { blue = "10.0.0.3" }
[[netns]]
name = "blue"
[[bridge]]
name = "br0"
addresses = ["10.0.0.1/24", "fd00::1/64"]
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24", "fd00::2/64"] }
b = { name = "red-p", master = "br0" }
[[veth]]
a = { netns = "blue", name = "eth0", addresses = ["10.0.0.3/24"] }
b = { name = "blue-p", master = "br0" }
[[veth]]
a = { name = "up0" }
b = { name = "up1", netns = "blue" }
[[macvlan]]
name = "mv0"
netns = "blue"
parent = "up0"
addresses = ["10.1.0.5/24"]
[[route]]
netns = "red"
to = "default"
via = "10.0.0.1"
)";

// Everything `ip` and /proc say about the sandbox's network, for before/after comparisons
// (MACs included: a rollback must give back the very same links).
const char* kWitness =
    "witness() { ip -br link; ip -br addr; ip route; ip netns; cat /proc/sys/net/ipv4/ip_forward;"
    " for n in $(ip netns | cut -d' ' -f1); do ip -n $n -br link; ip -n $n -br addr; ip -n $n route; done;"
    " ls -R /etc/netns; ls /run/topo/* 2>/dev/null | grep -v lock || true; }\n";

// A fuller dump for differential checks: every namespace's links (kind details included,
// MACs, ifindexes and operstates left out: they are the kernel's choice, and a bridge's
// operstate follows its ports' carrier a moment later, through linkwatch), addresses,
// routes, nftables rulesets, sysctls and files.
const char* kDump =
    "dump() { for ns in '' $(ip netns | cut -d' ' -f1 | sort); do n=${ns:+-n $ns}; echo \"== $ns\";"
    " ip $n -o link | sed -E 's/^[0-9]+: //; s/@if[0-9]+//; s/link\\/ether [^ ]+ brd [^ ]+//; s/link-netns [^ ]+//; s/ state [A-Z]+//' | sort;"
    " ip $n -d -o link | { grep -oE '^[0-9]+: [^:@]+|vxlan id [0-9]+ .* dstport [0-9]+|macvlan mode [a-z]+' || true; } | sed -E 's/^[0-9]+: //';"
    " ip $n -o addr | sed -E '/ fe80::/d; s/^[0-9]+: //' | sort; ip $n route; ip $n -6 route | sed '/^fe80::/d';"
    " ${ns:+ip netns exec $ns} nft list ruleset;"
    " done; cat /proc/sys/net/ipv4/ip_forward; ls -R /etc/netns; }\n";

std::string with(std::string lab, const std::string& from, const std::string& to) {
  lab.replace(lab.find(from), from.size(), to);
  return lab;
}

}  // namespace

TEST_CASE("kernel: apply reaches the file's state and a second apply has nothing to do", "[kernel]") {
  TempDir dir;
  std::string file = dir.write("lab.toml", kLab);
  Run r = in_sandbox("L=" + file +
                     "\n$TOPO apply $L | sed 's/in [0-9.]* s/in T s/'\n"
                     "$TOPO apply $L\n"
                     "$TOPO plan --detailed-exitcode $L\n"
                     "ip -n red route show default\n"
                     "ip -4 -n blue -br addr show mv0 | tr -s ' '\n"
                     "ip -br link show master br0 | cut -d' ' -f1 | cut -d@ -f1 | sort | tr '\\n' ' '; echo\n"
                     "ip -n red -d link show lo | grep -o 'alias topo:web'\n"
                     "cat /proc/sys/net/ipv4/ip_forward /etc/netns/red/hosts\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output ==
        "Applied lab 'web': 12 added, 1 changed, 0 destroyed (10 steps in T s).\n"
        "No changes. The kernel matches the lab.\n"
        "No changes. The kernel matches the lab.\n"
        "default via 10.0.0.1 dev eth0 proto 122 \n"
        "mv0@if2 UP 10.1.0.5/24 \n"
        "blue-p red-p \n"
        "alias topo:web\n"
        "1\n"
        "# written by topo for lab web\n127.0.0.1\tlocalhost\n::1\tlocalhost\n10.0.0.3\tblue\n");
}

TEST_CASE("kernel: a step the kernel refuses rolls everything back exactly", "[kernel]") {
  TempDir dir;
  // The kernel refuses a macvlan larger than its parent: step 5 of 10 fails.
  std::string bad = dir.write("bad.toml", with(kLab, "addresses = [\"10.1.0.5/24\"]", "addresses = [\"10.1.0.5/24\"]\nmtu = 9000"));
  std::string good = dir.write("good.toml", kLab);
  Run r = in_sandbox(std::string(kWitness) +
                     "ip link add keep0 type bridge\n"
                     "witness > /run/before\n"
                     "$TOPO apply " + bad + " || echo \"exit $?\"\n"
                     "witness > /run/after\n"
                     "diff /run/before /run/after && echo same\n"
                     // From an applied lab too: the failed edit leaves the lab as it was.
                     "$TOPO apply " + good + " > /dev/null\n"
                     "witness > /run/before\n"
                     "$TOPO apply " + bad + " 2>&1 | tail -1\n"
                     "witness > /run/after\n"
                     "diff /run/before /run/after && echo same\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output ==
        "topo: apply failed at step 5 of 10: blue: + macvlan mv0 parent host/up0 mode bridge 10.1.0.5/24 mtu 9000\n"
        "  creating interface blue/mv0: Invalid input data or parameter\n"
        "rolled back: the kernel is as it was.\n"
        "exit 1\n"
        "same\n"
        "rolled back: the kernel is as it was.\n"
        "same\n");
}

TEST_CASE("kernel: destroy removes what the lab owns and nothing else", "[kernel]") {
  TempDir dir;
  std::string file = dir.write("lab.toml", kLab);
  Run r = in_sandbox(std::string(kWitness) +
                     "ip link add keep0 type bridge\n"
                     "ip netns add other\n"
                     "witness > /run/before\n"
                     "$TOPO apply " + file + " > /dev/null\n"
                     "$TOPO destroy " + file + " | sed 's/in [0-9.]* s/in T s/'\n"

                     "witness > /run/after\n"
                     "diff /run/before /run/after && echo same\n"
                     "$TOPO apply " + file + " > /dev/null\n"
                     "$TOPO destroy --lab web > /dev/null && $TOPO destroy --lab web\n"
                     "$TOPO destroy --lab Web || echo \"exit $?\"\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output ==
        "Destroyed lab 'web': 6 removed (4 steps in T s).\n"
        "same\n"
        "No changes. The kernel matches the lab.\n"
        "topo destroy: --lab Web: must start with a lowercase letter\n"
        "exit 2\n");
}

TEST_CASE("kernel: after a SIGKILL at any point the next apply and destroy converge", "[kernel]") {
  // 30 namespaces on a bridge: the kills land before, during and after the namespaces.
  std::string lab = "lab = \"star\"\n[host]\nsysctl = { \"net.ipv4.ip_forward\" = 1 }\n"
                    "[[bridge]]\nname = \"br0\"\naddresses = [\"10.64.0.1/16\"]\n";
  for (int i = 1; i <= 30; ++i)
    lab += fmt::format("[[netns]]\nname = \"ns{0}\"\n[[veth]]\na = {{ netns = \"ns{0}\", name = \"eth0\", "
                       "addresses = [\"10.64.1.{0}/16\"] }}\nb = {{ name = \"v{0}\", master = \"br0\" }}\n"
                       "[[route]]\nnetns = \"ns{0}\"\nto = \"default\"\nvia = \"10.64.0.1\"\n",
                       i);
  TempDir dir;
  std::string file = dir.write("star.toml", lab);
  Run r = in_sandbox(std::string(kWitness) + "L=" + file +
                     "\nwitness > /run/pristine\n"
                     "exec 2>/dev/null  # bash's 'Killed' notices\n"
                     "for d in 0.005 0.01 0.02 0.03 0.05 0.08; do\n"
                     "  (timeout -s KILL $d $TOPO apply $L) > /dev/null 2>&1 || true\n"
                     "  $TOPO apply $L > /run/out 2>&1 || { echo \"apply failed after $d\"; cat /run/out; }\n"
                     "  $TOPO plan --detailed-exitcode $L > /dev/null || echo \"not converged after $d\"\n"
                     "  (timeout -s KILL $d $TOPO destroy $L) > /dev/null 2>&1 || true\n"
                     "  $TOPO destroy $L > /run/out 2>&1 || { echo \"destroy failed after $d\"; cat /run/out; }\n"
                     "  witness > /run/now\n"
                     "  diff /run/pristine /run/now > /dev/null || echo \"left behind after $d\"\n"
                     "done\necho done\n");
  INFO(r.output);
  CHECK(r.output == "done\n");
}

TEST_CASE("kernel: a failure injected at every step leaves the kernel as it was", "[kernel]") {
  TempDir dir;
  for (std::string lab : {read_file(source_dir() / "topologies/vxlan-two-hosts.toml"), std::string(kLab)}) {
    std::string file = dir.write("lab.toml", lab);
    Run r = in_sandbox(std::string(kWitness) + "L=" + file +
                       "\nip link add keep0 type bridge\nip addr add 10.9.0.1/24 dev keep0\n"
                       "witness > /run/before\n"
                       "n=$($TOPO plan --format json $L | grep -c '\"action\"')\n"
                       "for k in $(seq 1 $n); do\n"
                       "  TOPO_TEST_FAIL_STEP=$k $TOPO apply $L > /run/out 2>&1 && echo \"step $k: applied\"\n"
                       "  grep -q 'rolled back: the kernel is as it was' /run/out || echo \"step $k: no rollback\"\n"
                       "  witness > /run/after\n"
                       "  diff /run/before /run/after > /dev/null || echo \"step $k: not as it was\"\n"
                       "done\necho \"$n steps\"\n");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output == (lab == kLab ? "10 steps\n" : "11 steps\n"));
  }
}

TEST_CASE("kernel: killed before any step, the next apply converges and destroy leaves nothing", "[kernel]") {
  TempDir dir;
  std::string file = dir.write("lab.toml", kLab);
  Run r = in_sandbox(std::string(kWitness) + "L=" + file +
                     "\nip link add keep0 type bridge\nwitness > /run/pristine\n"
                     "exec 2>/dev/null  # bash's 'Killed' notices\n"
                     "for k in 1 2 3 4 5 6 7 8 9 10; do\n"
                     "  TOPO_TEST_KILL_STEP=$k $TOPO apply $L > /dev/null && echo \"step $k: not killed\"\n"
                     "  $TOPO apply $L > /dev/null\n"
                     "  $TOPO plan --detailed-exitcode $L > /dev/null || echo \"step $k: apply did not converge\"\n"
                     "  if [ $k -le 4 ]; then  # destroy has 4 steps: two namespaces, a bridge, a sysctl\n"
                     "    TOPO_TEST_KILL_STEP=$k $TOPO destroy $L > /dev/null && echo \"step $k: destroy not killed\"\n"
                     "  fi\n"
                     "  $TOPO destroy $L > /dev/null\n"
                     "  witness > /run/now\n"
                     "  diff /run/pristine /run/now > /dev/null || echo \"step $k: left behind\"\n"
                     "done\necho done\n");
  INFO(r.output);
  CHECK(r.output == "done\n");
}

TEST_CASE("kernel: apply makes the same state as the shell plan run by bash", "[kernel]") {
  TempDir dir;
  std::vector<std::string> labs = {std::string(kLab)};
  for (const auto& path : files_in(source_dir() / "topologies", ".toml")) labs.push_back(read_file(path));
  for (const std::string& lab : labs) {
    std::string file = dir.write("lab.toml", lab);
    Run by_topo = in_sandbox(std::string(kDump) + "$TOPO apply " + file + " > /dev/null\ndump\n");
    Run by_ip = in_sandbox(std::string(kDump) + "$TOPO plan --format shell " + file + " | bash\ndump\n");
    INFO(lab);
    CHECK(by_topo.status == 0);
    CHECK(by_topo.output.size() > 100);
    CHECK(by_topo.output == by_ip.output);
  }
}
