// Sysctls against a real kernel, each case in its own sandbox: what the lab sets is put back
// when it goes (host, adopted namespaces, its own), plan shows every put-back that apply
// makes, labs share the host's, and nothing forwards after destroy that did not before.
// `sysctl` and `nsenter` are the independent witnesses.
#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

// Every forwarding switch of the sandbox's host, IPv4 and IPv6, sorted.
const char* kForwarding = R"sh(forwarding() { sysctl -a -r '(\.forwarding|ip_forward)$' 2>/dev/null | sort; }
)sh";

// A bridge of the machine's from before the lab, keep0, that forwards in IPv4 only.
const char* kKeep0Forwards = "ip link add keep0 type bridge\nsysctl -qw net.ipv4.conf.keep0.forwarding=1\n";

// A lab that routes, in host, between two namespaces on two host bridges, in IPv4 and
// IPv6, and expects them to reach each other both ways.
std::string router_lab(const std::string& name, int n) {
  return fmt::format(R"(lab = "{0}"
[host]
sysctl = {{ "net.ipv4.ip_forward" = 1, "net.ipv6.conf.all.forwarding" = 1 }}
[[netns]]
name = "{0}-a"
[[netns]]
name = "{0}-b"
[[bridge]]
name = "{0}-bra"
addresses = ["10.{1}.1.1/24", "fd0{1}:1::1/64"]
[[bridge]]
name = "{0}-brb"
addresses = ["10.{1}.2.1/24", "fd0{1}:2::1/64"]
[[veth]]
a = {{ netns = "{0}-a", name = "eth0", addresses = ["10.{1}.1.2/24", "fd0{1}:1::2/64"] }}
b = {{ name = "{0}-pa", master = "{0}-bra" }}
[[veth]]
a = {{ netns = "{0}-b", name = "eth0", addresses = ["10.{1}.2.2/24", "fd0{1}:2::2/64"] }}
b = {{ name = "{0}-pb", master = "{0}-brb" }}
[[route]]
netns = "{0}-a"
to = "default"
via = "10.{1}.1.1"
[[route]]
netns = "{0}-a"
to = "::/0"
via = "fd0{1}:1::1"
[[route]]
netns = "{0}-b"
to = "default"
via = "10.{1}.2.1"
[[route]]
netns = "{0}-b"
to = "::/0"
via = "fd0{1}:2::1"
[[expect]]
from = "{0}-a"
to = "10.{1}.2.2"
reach = true
[[expect]]
from = "{0}-a"
to = "fd0{1}:2::2"
reach = true
[[expect]]
from = "{0}-b"
to = "fd0{1}:1::2"
reach = true
)",
                     name, n);
}

}  // namespace

TEST_CASE("kernel: destroy puts back the sysctls of namespaces adopted by pid and by path", "[kernel]") {
  // docs/format.md: sysctls set in a namespace the lab does not own go back to their values
  // from before the lab when it is destroyed, with its file or by name alone.
  Run r = in_sandbox(R"sh(
unshare --net sleep 1000 & pid=$!
while [ "$(readlink /proc/$pid/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
touch /run/ctr && unshare --net=/run/ctr true
cat > /run/lab.toml <<EOF
lab = "adopt"
[[netns]]
name = "bypid"
pid = $pid
sysctl = { "net.ipv4.ip_forward" = 1, "net.ipv4.conf.all.log_martians" = 1 }
[[netns]]
name = "bypath"
path = "/run/ctr"
sysctl = { "net.ipv4.ip_forward" = 1 }
EOF
values() { echo "$1: pid $(nsenter -t $pid -n sysctl -n net.ipv4.ip_forward net.ipv4.conf.all.log_martians | xargs)," \
  "path $(nsenter --net=/run/ctr sysctl -n net.ipv4.ip_forward)"; }
$TOPO apply -q /run/lab.toml
values applied
$TOPO destroy -q /run/lab.toml
values destroyed
$TOPO apply -q /run/lab.toml
$TOPO destroy -q --lab adopt
values 'destroyed by name'
find /run/topo/adopt -type f ! -name lock
kill $pid
)sh");
  check_prints(r,
               "applied: pid 1 1, path 1\n"
               "destroyed: pid 0 0, path 0\n"
               "destroyed by name: pid 0 0, path 0\n");
}

TEST_CASE("kernel: plan shows the host sysctl that apply puts back when the file drops it", "[kernel]") {
  // A CI check "is the lab up to date?" (plan --detailed-exitcode) must see what apply is
  // about to do: here, ip_forward going back to 0.
  Run r = in_sandbox(
      {{"WITH", "lab = \"web\"\n[host]\nsysctl = { \"net.ipv4.ip_forward\" = 1 }\n[[netns]]\nname = \"red\"\n"},
       {"W", "lab = \"web\"\n[[netns]]\nname = \"red\"\n"}},
      R"sh($TOPO apply -q $WITH
$TOPO plan $W
$TOPO plan --format json $W | grep -o '"object":"sysctl"[^}]*'
$TOPO plan --format shell $W | grep -A1 sysctl
$TOPO plan --detailed-exitcode $W > /dev/null || echo "exit $?"
$TOPO apply -q $W
sysctl net.ipv4.ip_forward
$TOPO plan --detailed-exitcode $W
)sh");
  check_prints(r,
               "namespace host\n"
               "  ~ sysctl net.ipv4.ip_forward: 1 -> 0\n"
               "\n"
               "Plan: 0 to add, 1 to change, 0 to destroy.\n"
               "\"object\":\"sysctl\",\"key\":\"net.ipv4.ip_forward\",\"before\":\"1\",\"after\":\"0\"\n"
               "# host: ~ sysctl net.ipv4.ip_forward: 1 -> 0\n"
               "echo '0' > /proc/sys/net/ipv4/ip_forward\n"
               "exit 2\n"
               "net.ipv4.ip_forward = 0\n"
               "No changes. The kernel matches the lab.\n");
}

TEST_CASE("kernel: after destroy no interface forwards that did not before, one made meanwhile included", "[kernel]") {
  // An interface made while ip_forward (and conf.all.forwarding in IPv6) was 1 takes 1 from
  // conf.default; the host must not go on routing through it once the lab is gone. keep0
  // forwarded before the lab, in IPv4 only, and must again.
  Run r = in_sandbox({{"L",
                       "lab = \"fwd\"\n[host]\nsysctl = { \"net.ipv4.ip_forward\" = 1, "
                       "\"net.ipv6.conf.all.forwarding\" = 1 }\n[[netns]]\nname = \"red\"\n"}},
                     std::string(kForwarding) + kKeep0Forwards + R"sh(forwarding > /run/before
$TOPO apply -q $L
ip link add new0 type bridge
sysctl net.ipv4.conf.new0.forwarding net.ipv6.conf.new0.forwarding
$TOPO destroy -q $L
ip link del new0 && forwarding | diff /run/before - && echo 'every forwarding switch as before'
ip link add new0 type bridge && $TOPO apply -q $L && ip link del new0 && ip link add new1 type bridge
$TOPO destroy -q $L
sysctl net.ipv4.conf.new1.forwarding net.ipv6.conf.new1.forwarding
)sh");
  check_prints(r,
               "net.ipv4.conf.new0.forwarding = 1\n"
               "net.ipv6.conf.new0.forwarding = 1\n"
               "every forwarding switch as before\n"
               "net.ipv4.conf.new1.forwarding = 0\n"
               "net.ipv6.conf.new1.forwarding = 0\n");
}

TEST_CASE("kernel: an interface made while conf.default.forwarding was set forwards no more after destroy",
          "[kernel]") {
  // The kernel does not copy conf.default to the interfaces there, but those made meanwhile
  // take its value; putting it back must reach them too (those from before keep theirs).
  Run r = in_sandbox({{"L",
                       "lab = \"fwd\"\n[host]\nsysctl = { \"net.ipv4.conf.default.forwarding\" = 1, "
                       "\"net.ipv6.conf.default.forwarding\" = 1 }\n"}},
                     std::string(kForwarding) + kKeep0Forwards + R"sh($TOPO apply -q $L
ip link add new0 type bridge
sysctl net.ipv4.conf.new0.forwarding net.ipv6.conf.new0.forwarding
$TOPO destroy -q $L
forwarding | grep -E 'default|keep0|new0'
)sh");
  check_prints(r,
               "net.ipv4.conf.new0.forwarding = 1\n"
               "net.ipv6.conf.new0.forwarding = 1\n"
               "net.ipv4.conf.default.forwarding = 0\n"
               "net.ipv4.conf.keep0.forwarding = 1\n"
               "net.ipv4.conf.new0.forwarding = 0\n"
               "net.ipv6.conf.default.forwarding = 0\n"
               "net.ipv6.conf.keep0.forwarding = 0\n"
               "net.ipv6.conf.new0.forwarding = 0\n");
}

TEST_CASE("kernel: two labs that set the same host sysctls apply and destroy in every order", "[kernel]") {
  // Both need the host to route, IPv4 and IPv6. Whichever goes first, the other still plans
  // no change and still reaches across; once both are gone every forwarding switch of the
  // host is what it was before the first apply (keep0 forwarded in IPv4 before either).
  TempDir dir;
  dir.write("one.toml", router_lab("one", 1));
  dir.write("two.toml", router_lab("two", 2));
  Run r = in_sandbox(std::string(kForwarding) + kSettle + "D=" + dir.path().string() + R"sh(
check() {
  settle
  for l in "$@"; do
    $TOPO plan --detailed-exitcode $D/$l.toml > /run/out || { echo "$l: plan not empty"; cat /run/out; }
    $TOPO test $D/$l.toml > /run/out || { echo "$l: test fails"; cat /run/out; }
  done
}
ip link add keep0 type bridge
sysctl -qw net.ipv4.conf.keep0.forwarding=1
forwarding > /run/before
for order in "one two one two" "one two two one" "two one one two" "two one two one"; do
  set -- $order
  $TOPO apply -q $D/$1.toml && check $1
  $TOPO apply -q $D/$2.toml && check $1 $2
  $TOPO destroy -q $D/$3.toml && check $4
  $TOPO destroy -q $D/$4.toml
  forwarding | diff /run/before - && echo "$order: every forwarding switch as before"
done
)sh");
  check_prints(r,
               "one two one two: every forwarding switch as before\n"
               "one two two one: every forwarding switch as before\n"
               "two one one two: every forwarding switch as before\n"
               "two one two one: every forwarding switch as before\n");
}

TEST_CASE(
    "kernel: a host sysctl another lab holds at another value is a conflict and so is a forward drop under its routing",
    "[kernel]") {
  // nftables drops a packet that any base chain drops: one lab's forward policy "drop" in
  // host would drop what another lab routes there. Each is refused, whichever comes second.
  Run r = in_sandbox({{"ONE", router_lab("one", 1)},
                      {"OFF", "lab = \"off\"\n[host]\nsysctl = { \"net.ipv4.ip_forward\" = 0 }\n"},
                      {"DROP", "lab = \"drop\"\n[host.policy]\nforward = \"drop\"\n"}},
                     R"sh(
conflicts() { s=0; $TOPO plan $1 > /run/out || s=$?; echo "plan exit $s"; grep '!' /run/out; }
$TOPO apply -q $ONE
conflicts $OFF
$TOPO apply $OFF > /run/out 2>&1 || echo "apply exit $?: $(tail -1 /run/out)"
conflicts $DROP
sysctl net.ipv4.ip_forward
$TOPO destroy -q $ONE
$TOPO apply -q $DROP
conflicts $ONE
)sh");
  check_prints(
      r,
      "plan exit 1\n"
      "  ! conflict: sysctl net.ipv4.ip_forward is 1 for lab 'one', which holds it; this lab sets 0\n"
      "apply exit 1: topo: apply refused: nothing was changed.\n"
      "plan exit 1\n"
      "  ! conflict: lab 'one' forwards in host (net.ipv4.ip_forward = 1); [host.policy] forward = \"drop\" would "
      "drop its traffic\n"
      "  ! conflict: lab 'one' forwards in host (net.ipv6.conf.all.forwarding = 1); [host.policy] forward = \"drop\" "
      "would drop its traffic\n"
      "net.ipv4.ip_forward = 1\n"
      "plan exit 1\n"
      "  ! conflict: lab 'drop' drops forwarded traffic in host ([host.policy] forward = \"drop\"); this lab forwards "
      "there (net.ipv4.ip_forward = 1)\n");
}

TEST_CASE("kernel: a sysctl dropped from a namespace the lab made goes back to the kernel's default", "[kernel]") {
  // For what the lab makes, a key left out means the kernel's value: the file, not its
  // history, says what the kernel has.
  Run r = in_sandbox({{"WITH",
                       "lab = \"web\"\n[[netns]]\nname = \"red\"\n"
                       "sysctl = { \"net.ipv4.ip_forward\" = 1, \"net.ipv4.conf.all.log_martians\" = 1 }\n"},
                      {"W", "lab = \"web\"\n[[netns]]\nname = \"red\"\nsysctl = { \"net.ipv4.ip_forward\" = 1 }\n"}},
                     R"sh($TOPO apply -q $WITH
$TOPO plan $W
$TOPO apply -q $W
ip netns exec red sysctl net.ipv4.conf.all.log_martians
$TOPO plan $W
find /run/topo/web -type f ! -name lock | sort
)sh");
  check_prints(r,
               "namespace red\n"
               "  ~ sysctl net.ipv4.conf.all.log_martians: 1 -> 0\n"
               "\n"
               "Plan: 0 to add, 1 to change, 0 to destroy.\n"
               "net.ipv4.conf.all.log_martians = 0\n"
               "No changes. The kernel matches the lab.\n"
               "/run/topo/web/sysctl-originals\n"
               "/run/topo/web/sysctl-overwritten\n");
}

TEST_CASE("kernel: rolling back a namespace's removal gives it back its sysctls", "[kernel]") {
  // The kernel's values die with the namespace; the rollback makes it again and must set
  // them, and its check that the kernel is as it was must look at them.
  Run r = in_sandbox({{"BOTH",
                       "lab = \"web\"\n[[netns]]\nname = \"red\"\n"
                       "sysctl = { \"net.ipv4.ip_forward\" = 1 }\n[[netns]]\nname = \"blue\"\n"},
                      {"R",
                       "lab = \"web\"\n[[netns]]\nname = \"green\"\n"
                       "sysctl = { \"net.ipv4.ip_forward\" = 1 }\n[[netns]]\nname = \"blue\"\n"
                       "sysctl = { \"net.ipv4.conf.all.log_martians\" = 1 }\n"}},
                     R"sh($TOPO apply -q $BOTH
n=$($TOPO plan --format json $R | grep -o '"action"' | wc -l)
TOPO_TEST_FAIL_STEP=$n $TOPO apply $R 2>&1 | tail -1
ip netns exec red sysctl net.ipv4.ip_forward
ip netns exec blue sysctl net.ipv4.conf.all.log_martians
)sh");
  check_prints(r,
               "rolled back: the kernel is as it was.\n"
               "net.ipv4.ip_forward = 1\n"
               "net.ipv4.conf.all.log_martians = 0\n");
}

TEST_CASE("kernel: disable_ipv6 set as the namespace's IPv6 addresses go and later dropped gives IPv6 back",
          "[kernel]") {
  // Disabling IPv6 makes the kernel drop the namespace's IPv6 addresses itself; the lab's
  // removal of them must not fail for it, and the key left out later means IPv6 again.
  auto lab = [](const std::string& sysctl, const std::string& v6) {
    return "lab = \"web\"\n[[netns]]\nname = \"red\"\n" + sysctl +
           "[[veth]]\na = { netns = \"red\", name = \"eth0\", addresses = [\"10.0.0.2/24\"" + v6 +
           "] }\nb = { name = \"red-p\", addresses = [\"10.0.0.1/24\"] }\n";
  };
  Run r = in_sandbox({{"V6", lab("", ", \"fd00::2/64\"")},
                      {"OFF", lab("sysctl = { \"net.ipv6.conf.all.disable_ipv6\" = 1 }\n", "")},
                      {"P", lab("", "")}},
                     R"sh($TOPO apply -q $V6
$TOPO apply -q $OFF
ip netns exec red sysctl net.ipv6.conf.all.disable_ipv6
$TOPO plan --detailed-exitcode $OFF
$TOPO apply -q $P
ip netns exec red sysctl net.ipv6.conf.all.disable_ipv6
$TOPO plan --detailed-exitcode $P
)sh");
  check_prints(r,
               "net.ipv6.conf.all.disable_ipv6 = 1\n"
               "No changes. The kernel matches the lab.\n"
               "net.ipv6.conf.all.disable_ipv6 = 0\n"
               "No changes. The kernel matches the lab.\n");
}

TEST_CASE("kernel: destroy and an apply that no longer adopts a namespace take the lab's part out of it", "[kernel]") {
  // The lab keeps where it adopted what (/run/topo/LAB/adopted): its links, its nft table,
  // its /etc/netns files and its sysctls there go with it even when the file no longer
  // names the namespace. What was there before the lab stays.
  Run r = in_sandbox({{"L", R"(lab = "ev"
[[netns]]
name = "c1"
path = "/run/c1"
dns = ["10.49.0.9"]
sysctl = { "net.ipv4.ip_forward" = 1 }
policy = { forward = "drop" }
[[bridge]]
name = "br1"
netns = "c1"
addresses = ["10.49.0.1/24"]
)"},
                      {"N", "lab = \"ev\"\n"}},
                     R"sh(
touch /run/c1 && unshare --net=/run/c1 true
nsenter --net=/run/c1 ip link add own0 type bridge
c1() { echo "$(nsenter --net=/run/c1 ip -br link | cut -d' ' -f1 | sort | xargs)" \
  "tables: $(nsenter --net=/run/c1 nft list tables | wc -l)" \
  "forward: $(nsenter --net=/run/c1 sysctl -n net.ipv4.ip_forward)" \
  "files: $(ls /etc/netns | xargs)"; }
$TOPO apply -q $L && c1
$TOPO destroy -q $L && c1
$TOPO apply -q $L && $TOPO apply -q $N && c1
$TOPO plan $N
)sh");
  check_prints(r,
               "br1 lo own0 tables: 1 forward: 1 files: c1\n"
               "lo own0 tables: 0 forward: 0 files: \n"
               "lo own0 tables: 0 forward: 0 files: \n"
               "No changes. The kernel matches the lab.\n");
}

TEST_CASE("kernel: a destroy killed after a namespace went leaves no originals once the next one ends", "[kernel]") {
  // The next destroy no longer sees the namespace; what the lab kept for it must go anyway
  // (found by tests/evolve, seed 21).
  Run r = in_sandbox({{"L", R"(lab = "ev"
[host]
sysctl = { "net.ipv4.ip_forward" = 1, "net.ipv4.ip_default_ttl" = 32 }
[[netns]]
name = "n1"
sysctl = { "net.ipv4.ip_forward" = 1 }
[[nat]]
kind = "snat"
source = "10.168.0.0/24"
to = "10.168.0.99"
)"}},
                     R"sh(
$TOPO apply -q $L
exec 2>/dev/null  # bash's 'Killed' notice
TOPO_TEST_KILL_STEP=4 $TOPO destroy -q $L && echo 'not killed'
ip netns | grep n1 || echo 'n1 is gone'
$TOPO destroy -q $L
find /run/topo -type f ! -name lock
sysctl net.ipv4.ip_forward net.ipv4.ip_default_ttl
)sh");
  check_prints(r,
               "n1 is gone\n"
               "net.ipv4.ip_forward = 0\n"
               "net.ipv4.ip_default_ttl = 64\n");
}

TEST_CASE(
    "kernel: a sysctl of the lab's own host link goes with the link, by edit or destroy, and comes back with an undo",
    "[kernel][sysctl]") {
  Run r = in_sandbox({{"WITH", R"(lab = "own"
[host]
sysctl = { "net.ipv4.conf.v0.forwarding" = 1, "net.ipv4.conf.v0.rp_filter" = 2 }
[[netns]]
name = "red"
[[veth]]
a = { name = "v0", addresses = ["10.0.0.1/24"] }
b = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24"] }
)"},
                      {"WITHOUT", "lab = \"own\"\n[[netns]]\nname = \"red\"\n"}},
                     R"sh($TOPO apply -q $WITH && $TOPO apply -q $WITHOUT && echo edited
$TOPO plan --detailed-exitcode $WITHOUT > /dev/null && echo 'nothing left to put back'
cat /run/topo/own/original /run/topo/.host/sysctls 2>/dev/null || true
$TOPO apply -q $WITH
for i in 1 2 3; do code=0; TOPO_TEST_FAIL_STEP=$i $TOPO destroy -q $WITH 2>/dev/null || code=$?
  echo "fail at $i: exit $code"
  sysctl -n net.ipv4.conf.v0.forwarding net.ipv4.conf.v0.rp_filter | tr '\n' ' '; echo
  $TOPO plan --detailed-exitcode $WITH > /dev/null || echo 'plan not empty'; done
$TOPO destroy -q $WITH && echo destroyed
ip -o link show v0 2>/dev/null || ls /run/topo; cat /run/topo/.host/sysctls 2>/dev/null || true
)sh");
  // The lab's directory keeps its lock file alone: "own" is left in /run/topo.
  check_prints(r,
               "edited\n"
               "nothing left to put back\n"
               "fail at 1: exit 1\n1 2 \n"
               "fail at 2: exit 1\n1 2 \n"
               "fail at 3: exit 1\n1 2 \n"
               "destroyed\n"
               "own\n");
}

TEST_CASE("kernel: a machine limit where the key is not (a sandbox) is noted by plan and apply, and changes nothing",
          "[kernel][sysctl]") {
  Run r = in_sandbox({{"L", "lab = \"big\"\n[host]\nlimits = { \"net.core.netdev_max_backlog\" = 4096 }\n"}},
                     R"sh(test ! -e /proc/sys/net/core/netdev_max_backlog && echo 'no such key here'
$TOPO plan --detailed-exitcode $L && $TOPO apply $L && $TOPO plan --detailed-exitcode $L > /dev/null && echo clean
$TOPO destroy $L
)sh");
  const std::string note =
      "note: host: net.core.netdev_max_backlog is not in this network namespace (only in the machine's first): the "
      "lab wants it at least 4096; raise it there\n";
  check_prints(r, "no such key here\nNo changes. The kernel matches the lab.\n" + note + note +
                      "No changes. The kernel matches the lab.\nclean\nNo changes. The kernel matches the lab.\n");
}

TEST_CASE("kernel: in the machine's first namespace a limit is raised while the lab holds it and put back by destroy",
          "[kernel][sysctl][serial]") {
  // The machine's own network namespace (no sandbox: the key is only there), with /run of a
  // mount namespace of its own for topo's state. The lab makes no link: the one thing it
  // changes is this limit, put back at the end. [serial]: the 3000-member case raises it too.
  REQUIRE(std::filesystem::exists("/proc/sys/net/core/netdev_max_backlog"));
  TempDir dir;
  std::string script = dir.write("script.sh", R"sh(set -eu
mount --make-rprivate /
mount -t tmpfs topo-run /run
key=/proc/sys/net/core/netdev_max_backlog
before=$(cat $key)
lab() { printf 'lab = "limit"\n[host]\nlimits = { "net.core.netdev_max_backlog" = %d }\n' $1 > $D/l.toml; }
lab $((before + 1024))
$TOPO plan $D/l.toml | sed "s/ $before -> $((before + 1024))/ BEFORE -> BEFORE+1024/"
$TOPO apply -q $D/l.toml && test $(cat $key) = $((before + 1024)) && echo raised
$TOPO plan --detailed-exitcode $D/l.toml
lab $before
$TOPO apply -q $D/l.toml && test $(cat $key) = $((before + 1024)) && echo 'as high as wanted: left alone'
$TOPO destroy -q $D/l.toml && test $(cat $key) = $before && echo 'put back'
)sh");
  Run r = run_shell(fmt::format("D={} TOPO={} unshare --mount bash {}", dir.path().string(), TOPO_BINARY, script));
  check_prints(r,
               "namespace host\n"
               "  ~ sysctl net.core.netdev_max_backlog: BEFORE -> BEFORE+1024\n"
               "\n"
               "Plan: 0 to add, 1 to change, 0 to destroy.\n"
               "raised\n"
               "No changes. The kernel matches the lab.\n"
               "as high as wanted: left alone\n"
               "put back\n");
}
