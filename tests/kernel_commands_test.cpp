// The commands that look at an applied lab, for real, each in a sandbox (tests/files.h):
// topo test on every topologies/ lab and after a route is removed by hand, apply --test,
// show against the `ip -j` and `nft -j` witnesses, exec, list, and completion of the names
// those find.
#include <regex>

#include "parser/load.h"
#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

// Times in the table ("0.2 ms") become "T".
const char* kMaskTimes = " | sed -E 's/[0-9]+\\.[0-9] ms$/T/'";

// What a lab needs besides itself for its expectations to hold: port-mapping's DNAT lands on
// a server in nginx, as `docker run -p 8080:80 nginx` would have one.
std::string setup_for(const std::string& file) {
  if (file != "port-mapping.toml") return "";
  return "$TOPO exec nginx -- python3 -m http.server 80 > /dev/null 2>&1 &\n"
         "listening nginx 80\n";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Lab NAME: namespaces a and b on one veth, both families; the caller adds its [[expect]]s.
std::string a_and_b(const std::string& name) {
  return "lab = \"" + name + "\"\n" + R"([[netns]]
name = "a"
[[netns]]
name = "b"
[[veth]]
a = { netns = "a", name = "eth0", addresses = ["10.9.0.1/24", "fd00:9::1/64"] }
b = { netns = "b", name = "eth0", addresses = ["10.9.0.2/24", "fd00:9::2/64"] }
)";
}

}  // namespace

TEST_CASE("kernel: topo test holds on every topologies/ lab once applied, and exits 4 before", "[kernel][expect]") {
  auto labs = example_labs();
  REQUIRE(labs.size() >= 7);
  for (const auto& path : labs) {
    std::string file = path.filename().string();
    DYNAMIC_SECTION(file) {
      LoadedLab loaded = load_lab_file(path.string());
      REQUIRE(loaded.ok());
      const Lab& lab = *loaded.lab;
      INFO("every lab says what its tutorial shows");
      REQUIRE(lab.expects.size() >= 2);
      Run r = in_sandbox(std::string(kSettle) + kListening + "L=" + path.string() +
                         "\necho '== before'\n"
                         "$TOPO test $L && echo 'exit 0' || echo \"exit $?\"\n"
                         "$TOPO apply -q $L\nsettle\n" +
                         setup_for(file) +
                         "echo '== test'\n"
                         "$TOPO test $L" +
                         kMaskTimes +
                         "\necho \"exit ${PIPESTATUS[0]}\"\n"
                         "kill %1 2>/dev/null || true\n");
      INFO(r.output);
      CHECK(r.status == 0);
      CHECK(part(r.output, "before") ==
            fmt::format("topo test: lab '{}' is not applied: {}; run topo apply {} first\nexit 4\n", lab.name.value,
                        fmt::format("namespace '{}' does not exist", lab.netns.at(0).name.value), path.string()));
      // A row per entry: an entry with "*" (its expectations side by side) is one.
      size_t rows = 0;
      for (size_t i = 0; i < lab.expects.size(); ++i)
        rows += lab.expects[i].group.empty() || i == 0 || !(lab.expects[i - 1].pos == lab.expects[i].pos);
      std::vector<std::string> got = lines_of(part(r.output, "test"));
      REQUIRE(got.size() == rows + 3);  // header, rows, summary, exit
      for (size_t i = 1; i <= rows; ++i) CHECK(got[i].rfind("ok  ", 0) == 0);
      CHECK(got[rows + 1] == fmt::format("{0} expectations: {0} hold, 0 fail.", lab.expects.size()));
      CHECK(got.back() == "exit 0");
    }
  }
}

TEST_CASE("kernel: topo test on the router lab, and after its default route is removed by hand", "[kernel][expect]") {
  std::string path = (source_dir() / "topologies/router.toml").string();
  LoadedLab loaded = load_lab_file(path);
  REQUIRE(loaded.ok());
  auto line = [&](size_t i) { return fmt::format("{}:{}:1", path, loaded.lab->expects.at(i).pos.line); };
  Run r = in_sandbox("L=" + path +
                     "\n$TOPO apply -q $L\n"
                     "echo '== applied'\n"
                     "$TOPO test $L" +
                     kMaskTimes +
                     "\n"
                     "ip -n left route del default\n"
                     "echo '== route gone'\n"
                     "$TOPO test $L 2> /run/err" +
                     kMaskTimes +
                     "\necho \"exit ${PIPESTATUS[0]}\"\n"
                     "echo '== stderr'\ncat /run/err\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "applied") ==
        "    FROM   TO                PROTO  EXPECT    GOT                  TIME\n"
        "ok  left   10.2.0.2 (right)  icmp   reach     reply                T\n"
        "ok  right  10.1.0.2 (left)   icmp   reach     reply                T\n"
        "ok  left   10.2.0.1          icmp   reach     reply                T\n"
        "ok  host   10.1.0.2 (left)   icmp   no reach  network unreachable  T\n"
        "ok  host   10.2.0.2 (right)  icmp   no reach  network unreachable  T\n"
        "5 expectations: 5 hold, 0 fail.\n");
  // Right's echo gets to left, whose answer has no way back: no reply within the timeout.
  CHECK(part(r.output, "route gone") ==
        "      FROM   TO                PROTO  EXPECT    GOT                  TIME\n"
        "FAIL  left   10.2.0.2 (right)  icmp   reach     network unreachable  T\n"
        "FAIL  right  10.1.0.2 (left)   icmp   reach     no reply             T\n"
        "FAIL  left   10.2.0.1          icmp   reach     network unreachable  T\n"
        "ok    host   10.1.0.2 (left)   icmp   no reach  network unreachable  T\n"
        "ok    host   10.2.0.2 (right)  icmp   no reach  network unreachable  T\n"
        "5 expectations: 2 hold, 3 fail.\n"
        "exit 1\n");
  CHECK(part(r.output, "stderr") ==
        line(0) + ": expectation failed: left -> 10.2.0.2 (right) icmp: expected to reach, got network unreachable\n" +
            line(1) + ": expectation failed: right -> 10.1.0.2 (left) icmp: expected to reach, got no reply\n" +
            line(2) + ": expectation failed: left -> 10.2.0.1 icmp: expected to reach, got network unreachable\n");
}

TEST_CASE("kernel: topo test over tcp and udp", "[kernel][expect]") {
  std::string lab = a_and_b("probes") + R"([[expect]]
from = "a"
to = "b"
proto = "tcp"
port = 7000
reach = true
[[expect]]
from = "a"
to = "fd00:9::2"
proto = "tcp"
port = 7001
reach = false
[[expect]]
from = "a"
to = "b"
proto = "udp"
port = 7002
reach = true
[[expect]]
from = "a"
to = "b"
proto = "udp"
port = 7003
reach = false
[[expect]]
from = "b"
to = "fd00:9::1"
reach = true
)";

  // b listens on tcp 7000 and answers udp 7002; nothing is on 7001 or 7003.
  const char* servers = R"(ip netns exec b python3 -c '
import socket, threading
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("0.0.0.0", 7000)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 7002))
while True:
    data, peer = u.recvfrom(100); u.sendto(data, peer)
' &
listening b 7000
listening b 7002 udp
)";
  Run r = in_sandbox({{"L", lab}}, std::string(kSettle) + kListening + "$TOPO apply -q $L\nsettle\n" + servers +
                                       "echo '== test'\n$TOPO test $L" + kMaskTimes +
                                       "\n"
                                       "kill %1\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "test") ==
        "    FROM  TO            PROTO     EXPECT    GOT               TIME\n"
        "ok  a     10.9.0.2 (b)  tcp/7000  reach     connected         T\n"
        "ok  a     fd00:9::2     tcp/7001  no reach  refused           T\n"
        "ok  a     10.9.0.2 (b)  udp/7002  reach     answered          T\n"
        "ok  a     10.9.0.2 (b)  udp/7003  no reach  port unreachable  T\n"
        "ok  b     fd00:9::1     icmp      reach     reply             T\n"
        "5 expectations: 5 hold, 0 fail.\n");
}

TEST_CASE("kernel: apply --test applies, then tests at once", "[kernel][expect]") {
  std::string lab = a_and_b("now") + R"([[expect]]
from = "a"
to = "b"
reach = true
[[expect]]
from = "b"
to = "fd00:9::1"
reach = true
[[expect]]
from = "a"
to = "10.8.0.1"
reach = false
)";

  Run r = in_sandbox({{"L", lab}},
                     "$TOPO apply --test $L | sed -E 's/in [0-9.]+ s\\)/in T s)/; s/[0-9]+\\.[0-9] ms$/T/'\n"
                     "echo \"exit ${PIPESTATUS[0]}\"\n");
  // The IPv6 addresses are still tentative when apply ends: topo test waits for duplicate
  // address detection to end before it probes.
  check_prints(r,
               "Applied lab 'now': 4 added, 0 changed, 0 destroyed (3 steps in T s).\n"
               "    FROM  TO            PROTO  EXPECT    GOT                  TIME\n"
               "ok  a     10.9.0.2 (b)  icmp   reach     reply                T\n"
               "ok  b     fd00:9::1     icmp   reach     reply                T\n"
               "ok  a     10.8.0.1      icmp   no reach  network unreachable  T\n"
               "3 expectations: 3 hold, 0 fail.\n"
               "exit 0\n");
}

// Python over `topo show --format json` and the witnesses: for each namespace shown, every
// interface's kind, mtu, up flag, master, alias, mac and addresses as `ip -j -d link` and
// `ip -j addr` have them, every route as `ip -j route` has it (and, in the lab's own
// namespaces, nothing more of either), and the NAT table's rules as `nft -j` counts them.
const char* kShowWitness = R"py(
import json, subprocess, sys
show = json.load(open("/run/show.json"))
def ip(ns, *args):
    pre = ["ip"] if ns == "host" else ["ip", "-n", ns]
    out = subprocess.check_output(pre + ["-j"] + list(args))
    return json.loads(out or b"[]")
def dst(to):
    addr, length = to.split("/")
    if length == "0": return "default"
    if length == ("32" if ":" not in addr else "128"): return addr
    return to
for ns in show["namespaces"]:
    name, bad = ns["name"], []
    links = {l["ifname"]: l for l in ip(name, "-d", "link")}
    addrs = {a["ifname"]: sorted("%s/%s" % (x["local"], x["prefixlen"]) for x in a.get("addr_info", [])
                                 if not x["local"].startswith("fe80")) for a in ip(name, "addr")}
    for i in ns["interfaces"]:
        l = links.get(i["name"])
        if l is None:
            bad.append(i["name"] + " missing"); continue
        have = {"kind": l.get("linkinfo", {}).get("info_kind", ""), "mtu": l["mtu"], "up": "UP" in l["flags"],
                "master": l.get("master"), "alias": l.get("ifalias"), "mac": l.get("address"),
                "addresses": addrs.get(i["name"], [])}
        for key, value in have.items():
            if i[key] != value: bad.append("%s %s: show %r, ip %r" % (i["name"], key, i[key], value))
    routes = [r for fam in ("-4", "-6") for r in ip(name, fam, "route", "show", "table", "main")
              if r.get("type", "unicast") == "unicast" and not r["dst"].startswith("fe80")]
    keys = sorted((r["dst"], r.get("gateway"), r.get("dev"), str(r.get("protocol", "boot"))) for r in routes)
    names = {2: "kernel", 3: "boot", 4: "static"}
    for r in ns["routes"]:
        k = (dst(r["to"]), r["via"], r["dev"], names.get(r["protocol"], str(r["protocol"])))
        if k not in keys: bad.append("route %r not in ip -j route" % (k,))
    if ns["mark"]:
        if len(ns["interfaces"]) != len(links) - 1: bad.append("ip has %d links besides lo" % (len(links) - 1))
        if len(ns["routes"]) != len(keys): bad.append("ip has %d routes" % len(keys))
    rules = 0
    if ns["nat"]:
        pre = [] if name == "host" else ["ip", "netns", "exec", name]
        table = json.loads(subprocess.check_output(pre + ["nft", "-j", "list", "table", "inet", ns["nat"]["name"]]))
        rules = sum(len(c["rules"]) for c in ns["nat"]["chains"])
        if rules != sum(1 for x in table["nftables"] if "rule" in x): bad.append("nft has other rules")
    print("%s: %d interfaces, %d routes, %d NAT rules: %s" % (name, len(ns["interfaces"]), len(ns["routes"]), rules,
          "as the witnesses show them" if not bad else "; ".join(bad)))
)py";

TEST_CASE("kernel: show --format json agrees with ip -j and nft -j", "[kernel][show]") {
  TempDir dir;
  std::string witness = dir.write("witness.py", kShowWitness);
  for (std::string file : {"bridge.toml", "vxlan-two-hosts.toml", "two-on-bridge.toml"}) {
    DYNAMIC_SECTION(file) {
      std::string path = (source_dir() / "topologies" / file).string();
      Run r = in_sandbox(
          "L=" + path +
          "\n$TOPO apply -q $L\n$TOPO show --format json $L > /run/show.json\n"
          "python3 " +
          witness +
          "\n"
          "echo '== by name'\n"
          "$TOPO show --lab $(grep '^lab = ' $L | cut -d'\"' -f2) --format json | cmp - /run/show.json && echo same\n");
      INFO(r.output);
      CHECK(r.status == 0);
      std::map<std::string, std::string> want = {
          {"bridge.toml",
           "host: 3 interfaces, 1 routes, 1 NAT rules: as the witnesses show them\n"
           "db: 1 interfaces, 2 routes, 0 NAT rules: as the witnesses show them\n"
           "web: 1 interfaces, 2 routes, 0 NAT rules: as the witnesses show them\n"},
          {"vxlan-two-hosts.toml",
           "host: 0 interfaces, 0 routes, 0 NAT rules: as the witnesses show them\n"
           "client-a: 1 interfaces, 1 routes, 0 NAT rules: as the witnesses show them\n"
           "client-b: 1 interfaces, 1 routes, 0 NAT rules: as the witnesses show them\n"
           "host-a: 4 interfaces, 1 routes, 0 NAT rules: as the witnesses show them\n"
           "host-b: 4 interfaces, 1 routes, 0 NAT rules: as the witnesses show them\n"},
          {"two-on-bridge.toml",
           "host: 3 interfaces, 0 routes, 0 NAT rules: as the witnesses show them\n"
           "con1: 1 interfaces, 2 routes, 0 NAT rules: as the witnesses show them\n"
           "con2: 1 interfaces, 2 routes, 0 NAT rules: as the witnesses show them\n"},
      };
      CHECK(r.output.substr(0, r.output.find("== by name")) == want[file]);
      CHECK(part(r.output, "by name") == "same\n");
    }
  }
}

TEST_CASE("kernel: show as text", "[kernel][show]") {
  std::string path = (source_dir() / "topologies/veth-pair.toml").string();
  Run r = in_sandbox("$TOPO apply -q " + path + "\n$TOPO show " + path + " | sed -E 's/mac [0-9a-f:]+/mac M/'\n");
  check_prints(r,
               "lab pair\n"
               "netns host\n"
               "netns ns1 (topo:pair)\n"
               "  veth veth-a peer ns2/veth-b up mtu 1500 mac M 10.0.0.1/24\n"
               "  route 10.0.0.0/24 dev veth-a proto kernel\n"
               "netns ns2 (topo:pair)\n"
               "  veth veth-b peer ns1/veth-a up mtu 1500 mac M 10.0.0.2/24\n"
               "  route 10.0.0.0/24 dev veth-b proto kernel\n");
}

TEST_CASE("kernel: show of a lab that is not applied says so and exits 4, by file and by name", "[kernel][show]") {
  std::string path = (source_dir() / "topologies/veth-pair.toml").string();
  Run r = in_sandbox(
      "st() { \"$@\" > /dev/null && echo \"exit 0\" || echo \"exit $?\"; }\n"
      "echo '== before'; st $TOPO show " +
      path +
      "; st $TOPO show --lab pair\n"
      "$TOPO apply -q " +
      path +
      "\n"
      "echo '== applied'; st $TOPO show " +
      path +
      "; st $TOPO show --lab pair --format json\n"
      "ip netns del ns2\n"
      "echo '== half'; st $TOPO show " +
      path +
      "\n"
      "$TOPO destroy -q " +
      path +
      "\n"
      "echo '== after destroy'; st $TOPO show --lab pair\n");
  INFO(r.output);
  CHECK(r.status == 0);
  std::string by_file = "topo show: lab 'pair' is not applied: namespace 'ns1' does not exist; run topo apply " + path +
                        " first\nexit 4\n";
  std::string by_name =
      "topo show: lab 'pair' is not applied: no namespace or link carries its mark (topo:pair)\nexit 4\n";
  CHECK(part(r.output, "before") == by_file + by_name);
  CHECK(part(r.output, "applied") == "exit 0\nexit 0\n");
  CHECK(part(r.output, "half") ==
        "topo show: lab 'pair' is not applied: namespace 'ns2' does not exist; run topo apply " + path +
            " first\nexit 4\n");
  CHECK(part(r.output, "after destroy") == by_name);
}

TEST_CASE("kernel: exec runs in the lab namespace as ip netns exec does, with the command's exit status",
          "[kernel][exec]") {
  std::string path = (source_dir() / "topologies/bridge.toml").string();
  Run r = in_sandbox("$TOPO apply -q " + path +
                     "\nip netns add foreign\n"
                     "st() { \"$@\" && echo \"exit 0\" || echo \"exit $?\"; }\n"
                     "echo '== resolv.conf'; st $TOPO exec web -- cat /etc/resolv.conf\n"
                     "echo '== links and exit status'; st $TOPO exec web -- sh -c 'ls /sys/class/net; ip -br addr show "
                     "eth0 | awk \"{print \\$3}\"; exit 7'\n"
                     "echo '== not found'; st $TOPO exec web -- no-such-command\n"
                     "echo '== killed'; st $TOPO exec db -- sh -c 'kill -TERM $$'\n"
                     "echo '== no such namespace'; st $TOPO exec nosuch -- true\n"
                     "echo '== not a lab namespace'; st $TOPO exec foreign -- true\n"
                     "echo '== no command'; st $TOPO exec web\n"
                     "echo '== options without --'; $TOPO exec web ip -br addr show eth0 | awk '{print $3}'\n"
                     "$TOPO exec web echo x --help -n -- y\n"
                     "$TOPO exec web -- echo -- x\n"
                     "$TOPO exec web sh -c 'echo $0 $1' exec -v\n"
                     "echo '== machine mounts untouched'; cat /etc/resolv.conf | grep -c 'written by topo' || true\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "resolv.conf") == "# written by topo for lab bridge\nnameserver 172.18.0.1\nexit 0\n");
  CHECK(part(r.output, "links and exit status") == "eth0\nlo\n172.18.0.2/24\nexit 7\n");
  CHECK(part(r.output, "not found") == "topo exec: no-such-command: No such file or directory\nexit 127\n");
  CHECK(part(r.output, "killed") == "Terminated\nexit 143\n");  // bash's word for SIGTERM: 128 + 15
  CHECK(part(r.output, "no such namespace") == "topo: error: opening namespace nosuch: it does not exist\nexit 1\n");
  CHECK(part(r.output, "not a lab namespace") ==
        "topo exec: namespace 'foreign' is not a lab's (its lo has no topo: mark); use ip netns exec\nexit 1\n");
  CHECK(part(r.output, "no command") ==
        "topo exec: give the command after the namespace, as in topo exec web ip addr\nexit 64\n");
  // Everything after NS is the command's, options and a -- after the command's name too.
  CHECK(part(r.output, "options without --") == "172.18.0.2/24\nx --help -n -- y\n-- x\nexec -v\n");
  CHECK(part(r.output, "machine mounts untouched") == "0\n");
}

// topo holds a namespace's file and a socket or two per namespace: with the soft limit of
// 1024 that shells commonly give, a 1000-namespace lab failed with "Too many open files".
// Here 256 files and 150 namespaces: the same, smaller. exec's command gets 256 back.
TEST_CASE("kernel: a soft limit on open files below the lab's needs is raised for topo, and given back to exec",
          "[kernel][exec]") {
  TempDir dir;
  std::string lab = dir.path().string() + "/star.toml";
  Run r = in_sandbox((source_dir() / "bench/gen-lab.sh").string() + " star 150 > " + lab + "\nL=" + lab + R"sh(
ulimit -Sn 256
st() { "$@" > /dev/null && echo "exit 0" || echo "exit $?"; }
st $TOPO apply -q $L
st $TOPO plan --detailed-exitcode $L
st $TOPO list
$TOPO exec ns150 -- sh -c 'ulimit -Sn'
st $TOPO destroy -q $L
)sh");
  check_prints(r, "exit 0\nexit 0\nexit 0\n256\nexit 0\n");
}

TEST_CASE("kernel: list finds the labs from their marks, and completion offers their names and namespaces",
          "[kernel][list]") {
  std::string dir = (source_dir() / "topologies").string();
  Run r = in_sandbox(
      "echo '== none'; $TOPO list\n"
      "$TOPO apply -q " +
      dir + "/bridge.toml\n$TOPO apply -q " + dir +
      "/veth-pair.toml\n"
      "$TOPO apply -q " +
      dir +
      "/none.toml\nip netns add foreign\n"
      "echo '== labs'; $TOPO list | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC/WHEN/'\n"
      "echo '== names'; $TOPO list --names\n"
      "echo '== namespaces'; $TOPO list --namespaces\n"
      "source <($TOPO completion bash)\n"
      "complete_words() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _topo; echo \"${COMPREPLY[*]}\"; }\n"
      "echo '== complete'\n"
      "complete_words $TOPO exec ''\n"
      "complete_words $TOPO exec n\n"
      "complete_words $TOPO destroy --lab ''\n"
      "complete_words $TOPO show --lab p\n"
      "$TOPO destroy -q " +
      dir +
      "/veth-pair.toml\n"
      "echo '== after destroy'; $TOPO list --names\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "none") == "No labs on this machine.\n");
  CHECK(part(r.output, "labs") ==
        "LAB     NAMESPACES  LINKS  APPLIED\n"
        "bridge  db,web      5      WHEN\n"
        "none    box         0      WHEN\n"
        "pair    ns1,ns2     2      WHEN\n");
  CHECK(part(r.output, "names") == "bridge\nnone\npair\n");
  CHECK(part(r.output, "namespaces") == "db\nweb\nbox\nns1\nns2\n");
  CHECK(part(r.output, "complete") == "db web box ns1 ns2\nns1 ns2\nbridge none pair\npair\n");
  CHECK(part(r.output, "after destroy") == "bridge\nnone\n");
}

TEST_CASE("kernel: list abbreviates a lab of many namespaces to the first, the last and the count", "[kernel][list]") {
  std::string dir = (source_dir() / "topologies").string();
  // 300 namespaces with lab big's mark on their lo, as apply leaves them; listed by ip netns
  // in the order made, which is not the order of their names.
  Run r = in_sandbox(
      "for i in $(seq 300 -1 1); do echo \"netns add s$i\"; done | ip -b -\n"
      "ip -all netns exec ip link set lo alias topo:big > /dev/null\n"
      "$TOPO apply -q " +
      dir +
      "/veth-pair.toml\n"
      "echo '== labs'; $TOPO list | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC/WHEN/'\n"
      "echo '== namespaces'; $TOPO list --namespaces | wc -l\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "labs") ==
        "LAB   NAMESPACES       LINKS  APPLIED\n"
        "big   s1 \u2026 s300 (300)  0      -\n"
        "pair  ns1,ns2          2      WHEN\n");
  CHECK(part(r.output, "namespaces") == "302\n");
}

TEST_CASE("kernel: list shows names the kernel holds as <U+XXXX> where they would drive the terminal",
          "[kernel][list]") {
  // A namespace whose lo carries a lab's mark, both named with an escape sequence and a
  // newline by whoever made them.
  Run r = in_sandbox(
      "ip netns add \"$(printf 'ev\\033[2Jil\\nx')\"\n"
      "ip -all netns exec ip link set lo alias \"$(printf 'topo:b\\033]0;t\\007ad')\" > /dev/null\n"
      "echo '== labs'; $TOPO list\n"
      "echo '== names'; $TOPO list --names; $TOPO list --namespaces\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "labs") ==
        "LAB                      NAMESPACES                LINKS  APPLIED\n"
        "b<U+001B>]0;t<U+0007>ad  ev<U+001B>[2Jil<U+000A>x  0      -\n");
  CHECK(part(r.output, "names") == "b<U+001B>]0;t<U+0007>ad\nev<U+001B>[2Jil<U+000A>x\n");
}
