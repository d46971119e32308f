// topo against a hostile machine (docs/security.md), each case in its own sandbox: links
// planted where topo writes, no capabilities, runs racing each other and other processes,
// and the kernel refusing. Each case fails if the protection it stands for is taken out.
#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

// Bash: /run/outside holds what a planted link points at; `outside` shows it, to be
// compared before and after. `refused CMD...` runs topo and prints its exit status and
// its error lines, without the "topo: " and "error: " that start them.
const char* kOutside = R"sh(mkdir -p /run/outside
echo precious > /run/outside/file
echo precious > /run/outside/hosts
outside() { echo "outside: $(ls /run/outside | tr '\n' ' ')$(cat /run/outside/file /run/outside/hosts | tr '\n' ' ')"; }
refused() { local s=0 out; out=$("$@" 2>&1) || s=$?; echo "exit $s"; echo "$out" | grep -vE '^(    with|rolled back)' | sed -E 's/^topo: (error: )?//; s/^  //'; }
)sh";

}  // namespace

TEST_CASE("kernel: a link planted where topo keeps its lab's files is refused, and what it points at is untouched",
          "[kernel][hostile]") {
  Run r = in_sandbox({{"L", kWebLab}}, std::string(kOutside) + R"sh(
# planted LINK TARGET: apply, then what the target holds; the link goes and the lab with it.
planted() {
  rm -rf $1; mkdir -p "$(dirname $1)"; ln -s $2 $1
  refused $TOPO apply $L; outside; rm $1; $TOPO destroy -q $L > /dev/null
}
planted /run/topo/web /run/outside
planted /run/topo/web/lock /run/outside/lock
for f in journal sysctl-originals sysctl-overwritten routes; do planted /run/topo/web/$f /run/outside/file; done
rm -r /run/topo/web
ln -s /run/outside /run/topo/web
refused $TOPO plan $L
rm -r /run/topo
planted /run/topo /run/outside
echo "namespaces: $(ip netns | wc -l), bridges: $(ip -br link show type bridge | wc -l)"
# The file beside one that is rewritten is made afresh: a link there goes, as a link.
mkdir -p /run/topo/.host
ln -s /run/outside/file /run/topo/.host/sysctls.topo-new
refused $TOPO apply -q $L
ls /run/topo/web /run/topo/.host
outside
)sh");
  INFO(r.output);
  CHECK(r.status == 0);
  std::string untouched = "outside: file hosts precious precious \n";
  std::string link = ": it is a symbolic link, and topo follows none where it writes (remove it)\n";
  CHECK(r.output == "exit 1\nopening /run/topo/web" + link + untouched + "exit 1\nopening /run/topo/web/lock" + link +
                        untouched + "exit 1\nreading /run/topo/web/journal" + link + untouched +
                        "exit 1\nreading /run/topo/web/sysctl-originals" + link + untouched +
                        "exit 1\nreading /run/topo/web/sysctl-overwritten" + link + untouched +
                        "exit 1\nreading /run/topo/web/routes" + link + untouched + "exit 1\nopening /run/topo/web" +
                        link + "exit 1\nopening /run/topo" + link + untouched +
                        "namespaces: 0, bridges: 0\n"
                        "exit 0\n\n"
                        "/run/topo/.host:\nlock\nsysctls\n\n/run/topo/web:\nlock\n" +
                        untouched);
}

TEST_CASE(
    "kernel: a link planted under /etc/netns, before the plan or between the plan and its steps, is refused, "
    "and what it points at is untouched",
    "[kernel][hostile]") {
  Run r = in_sandbox({{"L", kWebLab}}, std::string(kOutside) + R"sh(
# Between the plan and its steps (TOPO_TEST_AFTER_PLAN): the step writing the file fails
# and everything is undone.
TOPO_TEST_AFTER_PLAN='ln -s /run/outside /etc/netns/red' refused $TOPO apply $L
rm /etc/netns/red
TOPO_TEST_AFTER_PLAN='mkdir /etc/netns/red; ln -s /run/outside/file /etc/netns/red/resolv.conf' refused $TOPO apply $L
rm -r /etc/netns/red
echo "namespaces: $(ip netns | wc -l)"
outside
# Before the plan, in an applied lab: plan, apply and destroy stop at the read.
$TOPO apply -q $L
mv /etc/netns/red /run/red-files
ln -s /run/outside /etc/netns/red
refused $TOPO plan $L
refused $TOPO destroy $L
rm /etc/netns/red
mv /run/red-files /etc/netns/red
mv /etc/netns/red/hosts /run/red-hosts
ln -s /run/outside/hosts /etc/netns/red/hosts
refused $TOPO apply $L
mv /run/red-hosts /etc/netns/red/hosts
# Destroy, with /etc/netns/red made a link to a directory holding a hosts file after the plan.
TOPO_TEST_AFTER_PLAN='mv /etc/netns/red /run/red-files; ln -s /run/outside /etc/netns/red' refused $TOPO destroy $L
outside
rm /etc/netns/red
mv /run/red-files /etc/netns/red
$TOPO destroy -q $L
# /run/netns/NAME, where the namespace is mounted.
mkdir -p /run/netns
ln -s /run/outside/file /run/netns/red
refused $TOPO apply $L
rm /run/netns/red
outside
)sh");
  INFO(r.output);
  CHECK(r.status == 0);
  const char* link = "it is a symbolic link, and topo follows none where it writes (remove it)";
  CHECK(r.output == fmt::format("exit 1\napply failed at step 6 of 7: red: + file hosts\nopening /etc/netns/red: {0}\n"
                                "exit 1\napply failed at step 7 of 7: red: + file resolv.conf\n"
                                "writing /etc/netns/red/resolv.conf: {0}\n"
                                "namespaces: 0\n"
                                "outside: file hosts precious precious \n"
                                "exit 1\nopening /etc/netns/red: {0}\n"
                                "exit 1\nopening /etc/netns/red: {0}\n"
                                "exit 1\nreading /etc/netns/red/hosts: {0}\n"
                                "exit 1\ndestroy failed at step 1 of 3: red: - netns red\nopening /etc/netns/red: {0}\n"
                                "opening /etc/netns/red: {0}\n"
                                "outside: file hosts precious precious \n"
                                "exit 1\napply failed at step 1 of 7: red: + netns red\ncreating namespace red: {0}\n"
                                "outside: file hosts precious precious \n",
                                link));
}

TEST_CASE(
    "kernel: without CAP_NET_ADMIN and CAP_SYS_ADMIN every command that touches the kernel stops first, "
    "saying what it needs, "
    "and validate and graph need neither",
    "[kernel][hostile]") {
  Run r = in_sandbox({{"L", kWebLab}, {"E", std::string(kWebLab) + "[[netns]]\nname = \"blue\"\n"}},
                     std::string(kFullDump) + kSettle + R"sh(
drop() { setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-net_admin,-sys_admin "$@"; }
tried() { local s=0 out; out=$("$@" 2>&1) || s=$?; echo "$s ${out:0:50}"; }
full_dump > /run/before; ls -R /run/topo >> /run/before 2>&1 || true
for c in "apply $L" "destroy $L" "plan $L" "show $L" "list" "test $L" "exec red -- true"; do tried drop $TOPO $c; done
full_dump > /run/after; ls -R /run/topo >> /run/after 2>&1 || true
diff /run/before /run/after && echo "nothing changed"
$TOPO apply -q $L
# The new links' operstate (linkwatch) and IPv6 addresses (DAD) change by themselves for a
# second or two after apply: not the commands' doing, so the first dump waits for them.
settle
full_dump | grep -v operstate > /run/before
tried drop $TOPO apply $E
tried drop $TOPO destroy $L
tried setpriv --reuid=nobody --regid=nogroup --clear-groups $TOPO destroy --lab web
tried setpriv --bounding-set=-net_admin $TOPO apply $E
settle
full_dump | grep -v operstate > /run/after
diff /run/before /run/after && echo "nothing changed"
drop $TOPO apply $L 2>&1 || true
drop $TOPO validate -q $L && drop $TOPO graph $L | head -1
)sh");
  check_prints(
      r,
      "1 topo: apply needs CAP_NET_ADMIN (to change links, \n"
      "1 topo: destroy needs CAP_NET_ADMIN (to change links\n"
      "1 topo: plan needs CAP_SYS_ADMIN (to enter network n\n"
      "1 topo: show needs CAP_SYS_ADMIN (to enter network n\n"
      "1 topo: list needs CAP_SYS_ADMIN (to enter network n\n"
      "1 topo: test needs CAP_SYS_ADMIN (to enter network n\n"
      "1 topo: exec needs CAP_SYS_ADMIN (to enter the names\n"
      "nothing changed\n"
      "1 topo: apply needs CAP_NET_ADMIN (to change links, \n"
      "1 topo: destroy needs CAP_NET_ADMIN (to change links\n"
      "1 topo: destroy needs CAP_NET_ADMIN (to change links\n"
      "1 topo: apply needs CAP_NET_ADMIN (to change links, \n"
      "nothing changed\n"
      "topo: apply needs CAP_NET_ADMIN (to change links, addresses, routes and nftables tables) and "
      "CAP_SYS_ADMIN (to make, enter and unmount network namespaces), which this process does not have: run it "
      "as root. Nothing was changed.\n"
      "lab web\n");
}

TEST_CASE(
    "kernel: two applies of one lab at once: the second waits, saying so, then finds nothing to do, "
    "and with --no-wait it fails at once",
    "[kernel][hostile]") {
  Run r = in_sandbox({{"L", kWebLab}}, R"sh(
# await FILE [GREP]: waits (at most 10 s) for FILE to exist, or to hold GREP.
await() {
  for i in $(seq 500); do
    if [ -e $1 ] && { [ $# -eq 1 ] || grep -q "$2" $1; }; then return; fi
    sleep 0.02
  done
  echo "no $*"
}
# The first apply stops between its plan and its steps until /run/go exists.
TOPO_TEST_AFTER_PLAN='touch /run/planned; for i in $(seq 500); do [ -e /run/go ] && break; sleep 0.02; done' \
  $TOPO apply -q $L > /run/first 2>&1 &
first=$!
await /run/planned
s=0; $TOPO apply --no-wait $L > /run/no-wait 2>&1 || s=$?
echo "no-wait: exit $s: $(cat /run/no-wait)"
$TOPO apply $L > /run/second 2>&1 &
second=$!
await /run/second waiting
touch /run/go
wait $first && echo "first: exit 0: $(cat /run/first)"
wait $second && echo "second: exit 0: $(cat /run/second)"
$TOPO plan --detailed-exitcode $L
)sh");
  check_prints(r,
               "no-wait: exit 1: topo: error: locking lab web: another topo apply or destroy of this lab is running\n"
               "first: exit 0: \n"
               "second: exit 0: topo: waiting for another apply or destroy of lab 'web' to finish\n"
               "No changes. The kernel matches the lab.\n"
               "No changes. The kernel matches the lab.\n");
}

TEST_CASE("kernel: two labs applied and destroyed in parallel 20 times: both succeed, neither touches the other",
          "[kernel][hostile]") {
  // Each lab has host objects (a bridge, a veth end, routes, its NAT table) next to the
  // other's, and a namespace of its own.
  auto lab = [](const std::string& name, int n) {
    return fmt::format(R"(lab = "{0}"
[[netns]]
name = "{0}-ns"
[[bridge]]
name = "{0}-br"
addresses = ["10.{1}.0.1/24"]
[[veth]]
a = {{ netns = "{0}-ns", name = "eth0", addresses = ["10.{1}.0.2/24"] }}
b = {{ name = "{0}-p", master = "{0}-br" }}
[[route]]
netns = "{0}-ns"
to = "default"
via = "10.{1}.0.1"
[[nat]]
kind = "masquerade"
source = "10.{1}.0.0/24"
)",
                       name, n);
  };
  Run r = in_sandbox({{"A", lab("left", 1)}, {"B", lab("right", 2)}}, R"sh(
ok=0
for i in $(seq 20); do
  $TOPO apply -q $A & pa=$!
  $TOPO apply -q $B & pb=$!
  wait $pa; wait $pb
  $TOPO plan --detailed-exitcode $A > /dev/null
  $TOPO plan --detailed-exitcode $B > /dev/null
  # One goes while the other is made again: the one that stays is whole.
  $TOPO destroy -q $A & pa=$!
  $TOPO apply -q $B & pb=$!
  wait $pa; wait $pb
  $TOPO plan --detailed-exitcode $B > /dev/null
  [ -z "$(ip -br link | grep left)" ] && [ -z "$(ip netns | grep left)" ]
  [ -z "$(nft list tables | grep topo-left)" ]
  $TOPO destroy -q $B
  ok=$((ok + 1))
done
echo "$ok rounds"
ip -br link | grep -v '^lo' || true; ip netns; nft list tables
)sh");
  check_prints(r, "20 rounds\n");
}

// CI saw the test above fail once with "opening namespace file /run/netns/left-ns: it is not a
// namespace": right's reader looks at every name in /run/netns, and left's namespace was an
// empty file for a moment (made and not yet mounted, or unmounted and not yet removed). Empty
// files coming and going as fast as perl can make them widen that moment for plan and list.
TEST_CASE(
    "kernel: plan and list do not stop at another run's namespace file that is not yet, or no longer, a "
    "namespace",
    "[kernel][hostile]") {
  Run r = in_sandbox({{"L", "lab = \"mine\"\n[[netns]]\nname = \"mine-ns\"\n"}}, R"sh(
mkdir -p /run/netns
perl -e 'my $end = time + 2; while (time < $end) {
  for my $i (0..2) { open(my $f, ">", "/run/netns/other$i") or die; close $f; unlink "/run/netns/other$i" } }' &
p=$!
failed=0
while kill -0 $p 2>/dev/null; do
  $TOPO plan $L > /dev/null 2>> /run/errors || failed=$((failed + 1))
  $TOPO list > /dev/null 2>> /run/errors || failed=$((failed + 1))
done
echo "$failed failed"; sort /run/errors | uniq -c
)sh");
  check_prints(r, "0 failed\n");
}

TEST_CASE(
    "kernel: an interface made by another process between the plan and its step: the step fails with the "
    "kernel's EEXIST, the rest is undone, the other interface is left alone",
    "[kernel][hostile]") {
  Run r = in_sandbox({{"L", kWebLab}}, std::string(kFullDump) + R"sh(
full_dump > /run/before
# A bridge of the very name and kind the lab makes: without NLM_F_EXCL the kernel would take
# the request as a change of it, and topo would mark someone else's bridge as the lab's.
s=0; TOPO_TEST_AFTER_PLAN='ip link add br0 type bridge' $TOPO apply $L 2>&1 | grep -v '^    with' || s=$?
ip -d link show br0 | grep -c 'alias' || true
ip link del br0
full_dump > /run/after
diff /run/before /run/after && echo "nothing changed"
)sh");
  check_prints(r,
               "topo: apply failed at step 3 of 7: host: + bridge br0 10.0.0.1/24 mtu 1500\n"
               "  creating interface host/br0: File exists\n"
               "  it was not there when the plan was made: something else made it since; topo left it alone\n"
               "rolled back: the lab's part of the kernel is as it was; meanwhile, something else changed:\n"
               "  namespace host: interface br0 is new, not the lab's\n"
               "0\n"
               "nothing changed\n");
}

TEST_CASE(
    "kernel: EBUSY, a macvlan on a machine interface that became a bridge port: the kernel's words, "
    "the step, rollback",
    "[kernel][hostile]") {
  Run r = in_sandbox({{"L", std::string(kWebLab) + R"([[netns]]
name = "blue"
[[macvlan]]
name = "mv0"
netns = "blue"
parent = "eth9"
)"}},
                     std::string(kFullDump) + R"sh(
ip link add eth9 type veth peer name eth9-peer
ip link add other-br type bridge
ip link set eth9 master other-br
full_dump > /run/before
$TOPO apply $L 2>&1 | grep -v '^    with' || true
full_dump > /run/after
diff /run/before /run/after && echo "nothing changed"
)sh");
  check_prints(r,
               "topo: apply failed at step 4 of 9: blue: + macvlan mv0 parent host/eth9 mode bridge mtu 1500\n"
               "  creating interface blue/mv0: Device or resource busy\n"
               "rolled back: the kernel is as it was.\n"
               "nothing changed\n");
}

TEST_CASE("kernel: ENOBUFS, 3000 filter rules in one nftables batch: every answer has room, apply and destroy succeed",
          "[kernel][hostile]") {
  std::string ports;
  for (int p = 1; p <= 3000; ++p) ports += (p > 1 ? ", " : "") + std::to_string(p);
  // Each message of the batch is answered; without a receive buffer sized for all the
  // answers the kernel drops those that do not fit (ENOBUFS) after committing the batch.
  std::string lab =
      "lab = \"many\"\n[[filter]]\nchain = \"input\"\naction = \"drop\"\nproto = \"tcp\"\nport = [" + ports + "]\n";
  Run r = in_sandbox({{"L", lab}}, R"sh(
$TOPO apply $L | sed 's/in [0-9.]* s/in T s/'
nft list table inet topo-many | grep -c dport
$TOPO plan --detailed-exitcode $L
$TOPO destroy $L | sed 's/in [0-9.]* s/in T s/'
nft list tables
)sh");
  check_prints(r,
               "Applied lab 'many': 3001 added, 0 changed, 0 destroyed (1 step in T s).\n"
               "3000\n"
               "No changes. The kernel matches the lab.\n"
               "Destroyed lab 'many': 3001 removed (1 step in T s).\n");
}

TEST_CASE(
    "kernel: an adopted namespace whose process exits between the plan and its steps: the step names it, "
    "the rest is undone",
    "[kernel][hostile]") {
  TempDir dir;
  Run r = in_sandbox(std::string(kFullDump) + "D=" + dir.path().string() + R"sh(
unshare --net sleep 600 &
box=$!
# box is in a namespace of its own once unshare has made it.
while [ "$(readlink /proc/$box/ns/net)" = "$(readlink /proc/$$/ns/net)" ]; do sleep 0.02; done
cat > $D/lab.toml <<EOF
lab = "adopt"
[[netns]]
name = "box"
pid = $box
[[bridge]]
name = "br0"
addresses = ["10.5.0.1/24"]
[[veth]]
a = { netns = "box", name = "eth0", addresses = ["10.5.0.2/24"] }
b = { name = "box-p", master = "br0" }
EOF
full_dump > /run/before
TOPO_TEST_AFTER_PLAN="kill $box; while [ -e /proc/$box/ns/net ]; do sleep 0.02; done" $TOPO apply $D/lab.toml 2>&1 |
  grep -v '^    with' || true
full_dump > /run/after
diff /run/before /run/after && echo "nothing changed"
)sh");
  check_prints(
      r,
      "topo: apply failed at step 2 of 2: box: + veth eth0 peer host/box-p 10.5.0.2/24 & host: veth box-p peer "
      "box/eth0 master br0\n"
      "  opening namespace box: it does not exist\n"
      "rolled back: the lab's part of the kernel is as it was; meanwhile, something else changed:\n"
      "  namespace box is gone (it is not the lab's: it went with its process)\n"
      "nothing changed\n");
}

TEST_CASE("kernel: adopting the namespace topo runs in, or one namespace under two names, is refused by name",
          "[kernel][hostile]") {
  // A --network host container's pid is in the host's namespace: adopted, it was read twice
  // (as host and as itself) and every apply made its veth again.
  TempDir dir;
  Run r = in_sandbox(std::string(kFullDump) + "D=" + dir.path().string() + R"sh(
sleep infinity > /dev/null 2>&1 &
hostpid=$!
unshare --net sleep infinity > /dev/null 2>&1 &
box=$!
trap 'kill $hostpid $box' EXIT
while [ "$(readlink /proc/$box/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
lab() { cat > $D/lab.toml <<EOF
lab = "adopt"
[[netns]]
name = "ctr"
$1
[[netns]]
name = "other"
$2
[[veth]]
a = { netns = "ctr", name = "eth0", addresses = ["10.5.0.2/24"] }
b = { name = "ctr-p" }
EOF
}
full_dump > /run/before
lab "pid = $hostpid" "pid = $box"
$TOPO plan $D/lab.toml 2>&1 | sed "s/$hostpid/HOST/g"; echo "exit ${PIPESTATUS[0]}"
$TOPO apply $D/lab.toml 2>&1 | sed "s/$hostpid/HOST/g"; echo "exit ${PIPESTATUS[0]}"
lab 'path = "/proc/self/ns/net"' "pid = $box"
$TOPO plan $D/lab.toml 2>&1 | cat; echo "exit ${PIPESTATUS[0]}"
lab "pid = $box" "path = \"/proc/$box/ns/net\""
$TOPO apply $D/lab.toml 2>&1 | sed "s/$box/BOX/g"; echo "exit ${PIPESTATUS[0]}"
full_dump > /run/after
diff /run/before /run/after && echo "nothing changed"
)sh");
  check_prints(
      r,
      "topo: error: adopting netns 'ctr' (/proc/HOST/ns/net): it is the namespace topo runs in: put its links in "
      "\"host\" instead of adopting it\n"
      "exit 1\n"
      "topo: error: adopting netns 'ctr' (/proc/HOST/ns/net): it is the namespace topo runs in: put its links in "
      "\"host\" instead of adopting it\n"
      "exit 1\n"
      "topo: error: adopting netns 'ctr' (/proc/self/ns/net): it is the namespace topo runs in: put its links in "
      "\"host\" instead of adopting it\n"
      "exit 1\n"
      "topo: error: adopting netns 'other' (/proc/BOX/ns/net): it is the same namespace as netns 'ctr' "
      "(/proc/BOX/ns/net): a namespace is adopted once\n"
      "exit 1\n"
      "nothing changed\n");
}

TEST_CASE(
    "kernel: a route made by another process between the plan and its step: the kernel's own words, "
    "rollback, the other route left alone",
    "[kernel][hostile]") {
  // Routes go through topo's own reading of the kernel's answer (errno and extended ack),
  // not libnl's paraphrase ("Object exists").
  Run r = in_sandbox({{"L", "lab = \"web\"\n[[netns]]\nname = \"red\"\n" + std::string(kRedOnBridge) +
                                "[[route]]\nto = \"10.9.0.0/16\"\nvia = \"10.0.0.2\"\n"}},
                     std::string(kFullDump) + R"sh(
full_dump > /run/before
TOPO_TEST_AFTER_PLAN='ip route add blackhole 10.9.0.0/16' $TOPO apply $L 2>&1 || echo "exit $?"
ip route show 10.9.0.0/16
ip route del blackhole 10.9.0.0/16
full_dump > /run/after
diff /run/before /run/after && echo "nothing changed"
)sh");
  check_prints(r,
               "topo: apply failed at step 4 of 4: host: + route 10.9.0.0/16 via 10.0.0.2\n"
               "  adding route 10.9.0.0/16 via 10.0.0.2 in host: File exists\n"
               "  it was not there when the plan was made: something else made it since; topo left it alone\n"
               "rolled back: the kernel is as it was.\n"
               "exit 1\n"
               "blackhole 10.9.0.0/16 \n"
               "nothing changed\n");
}
