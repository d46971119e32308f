// The plan's other two faces: the JSON for programs and the shell script for people, exact.
#include "planner/render_json.h"
#include "planner/render_shell.h"
#include "planner/render_show.h"
#include "tests/plans.h"

using namespace topo::test;

namespace {

const char* kRenderLab = R"(lab = "web"
[[netns]]
name = "red"
sysctl = { "net.ipv4.conf.all.forwarding" = 1 }
hosts = { db = "10.0.0.4" }
[[netns]]
name = "c1"
pid = 4242
[[bridge]]
name = "br0"
addresses = ["10.0.0.1/24", "fd00::1/64"]
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24", "fd00::2/64"], mac = "02:00:00:00:00:02" }
b = { name = "red-p", master = "br0" }
mtu = 1400
[[veth]]
a = { netns = "c1", name = "eth1" }
b = { netns = "red", name = "c1-p" }
[[route]]
netns = "red"
to = "fd01::/64"
via = "fd00::1"
)";

State with_c1() {
  State s = empty_kernel();
  s.namespaces["c1"].exists = true;  // the container's, adopted
  return s;
}

}  // namespace

TEST_CASE("shell: the ip commands that make the same state, marks included", "[render]") {
  State expected = expected_state(lab(kRenderLab));
  CHECK(plan_shell(plan_for(expected, with_c1()), expected, "web") == R"(#!/bin/bash
# made by `topo plan --format shell`: run as root, in the namespace topo runs in
set -euo pipefail

# red: + netns red
ip netns add red
ip -n red link set dev lo alias 'topo:web' up

# red: ~ sysctl net.ipv4.conf.all.forwarding: (new namespace) -> 1
nsenter --net='/run/netns/red' sh -c 'echo '\''1'\'' > /proc/sys/net/ipv4/conf/all/forwarding'

# c1: + veth eth1 peer red/c1-p & red: veth c1-p peer c1/eth1
nsenter --net='/proc/4242/ns/net' ip link add name eth1 numtxqueues 1 numrxqueues 1 type veth peer name c1-p numtxqueues 1 numrxqueues 1 netns red
nsenter --net='/proc/4242/ns/net' ip link set dev eth1 group 534363281 alias 'topo:web' up
ip -n red link set dev c1-p alias 'topo:web' up

# host: + bridge br0 10.0.0.1/24 fd00::1/64 mtu 1400
ip link add name br0 mtu 1399 type bridge
ip link set dev br0 mtu 1400 address 8e:51:40:92:56:83 alias 'topo:web' up
ip addr add 10.0.0.1/24 dev br0
ip addr add fd00::1/64 dev br0 nodad

# host: + veth red-p peer red/eth0 mtu 1400 master br0 & red: veth eth0 peer host/red-p 10.0.0.2/24 fd00::2/64 mtu 1400 mac 02:00:00:00:00:02
ip link add name red-p numtxqueues 1 numrxqueues 1 type veth peer name eth0 numtxqueues 1 numrxqueues 1 netns red
ip link set dev red-p mtu 1400 group 534363281 alias 'topo:web' up
ip link set dev red-p master br0
ip -n red link set dev eth0 mtu 1400 address 02:00:00:00:00:02 alias 'topo:web' up
ip -n red addr add 10.0.0.2/24 dev eth0
ip -n red addr add fd00::2/64 dev eth0 nodad

# red: + route fd01::/64 via fd00::1 metric 1024
ip -6 -n red route add fd01::/64 via fd00::1 metric 1024 proto 122

# red: + file hosts
mkdir -p /etc/netns/red
printf '%s' '# written by topo for lab web
127.0.0.1	localhost
::1	localhost
10.0.0.4	db
' > /etc/netns/red/hosts
)");
}

TEST_CASE("json: versioned, ordered steps with both sides of each", "[render]") {
  std::string toml = R"(lab = "web"
[[bridge]]
name = "br0"
mtu = 9000
)";
  State expected = expected_state(lab(toml));
  State observed = applied(expected);
  link(observed, "host", "br0").mtu = 1500;
  CHECK(
      plan_json(plan_for(expected, observed), "web") ==
      R"({"format_version":1,"lab":"web","summary":{"add":0,"change":1,"destroy":0},"conflicts":[],"notes":[],"steps":[
{"action":"modify","inverse":"modify","netns":"host","replace":false,"object":"link","before":{"name":"br0","kind":"bridge","alias":"topo:web","mtu":1500,"mac":"8e:51:40:92:56:83","up":true,"master":null,"link_local":true,"addresses":[]},"after":{"name":"br0","kind":"bridge","alias":"topo:web","mtu":9000,"mac":"8e:51:40:92:56:83","up":true,"master":null,"link_local":true,"addresses":[]}}
]}
)");
  CHECK(plan_json(plan_for(expected, applied(expected)), "web") ==
        "{\"format_version\":1,\"lab\":\"web\",\"summary\":{\"add\":0,\"change\":0,\"destroy\":0},"
        "\"conflicts\":[],\"notes\":[],\"steps\":[\n]}\n");
}

TEST_CASE("shell: interfaces named like ip's keywords are named with dev and name", "[render]") {
  // `ip link set up alias x up` is ambiguous to ip ("dev" argument is required): the tree
  // benchmark names its uplinks "up". Every link command names its device explicitly.
  std::string toml = R"(lab = "web"
[[netns]]
name = "a"
[[bridge]]
name = "down"
netns = "a"
[[veth]]
a = { netns = "a", name = "up", master = "down" }
b = { name = "help" }
)";
  State expected = expected_state(lab(toml));
  std::string sh = plan_shell(make_plan(diff(expected, empty_kernel(), "web")), expected, "web");
  CHECK(sh.find("ip -n a link add name down mtu 1499 type bridge\n") != std::string::npos);
  CHECK(sh.find("ip -n a link set dev up alias 'topo:web' up\n") != std::string::npos);
  CHECK(sh.find("ip -n a link set dev up master down\n") != std::string::npos);
  CHECK(sh.find("ip -n a link add name up numtxqueues 1 numrxqueues 1 type veth peer name help ") != std::string::npos);
}

TEST_CASE("shell and text: a link without a link-local address gets addrgenmode none before it comes up", "[render]") {
  std::string toml = R"(lab = "web"
[[netns]]
name = "a"
[[veth]]
a = { netns = "a", name = "eth0", link_local = false }
b = { name = "a-p" }
)";
  State expected = expected_state(lab(toml));
  Plan plan = make_plan(diff(expected, empty_kernel(), "web"));
  std::string sh = plan_shell(plan, expected, "web");
  size_t gen = sh.find("ip -n a link set dev eth0 addrgenmode none\n");
  CHECK(gen != std::string::npos);
  CHECK(gen < sh.find("ip -n a link set dev eth0 alias 'topo:web' up\n"));
  CHECK(sh.find("dev a-p addrgenmode") == std::string::npos);
  CHECK(plan_text(plan).find("+ veth eth0 peer host/a-p link_local false\n") != std::string::npos);
}

TEST_CASE("text: names and aliases the kernel gives topo reach the terminal as <U+XXXX>, not as controls", "[render]") {
  // Interfaces made by others may hold escape sequences or bidirectional controls (the kernel
  // takes any byte but '/', ':' and white space in a name, any at all in an alias).
  State observed = empty_kernel();
  added_link(observed, "host", "br0", BridgeState{}).alias = "x\x1b]0;owned\x07\xe2\x80\xae";
  // The lab's, renamed by someone: plan removes it.
  added_link(observed, "host", "red\x1b[2J", kind_named("dummy")).alias = "topo:web";
  Plan p = plan_for(expected_state(lab("lab = \"web\"\n[[bridge]]\nname = \"br0\"\n")), observed);
  CHECK(plan_text(p) ==
        "namespace host\n"
        "  - dummy red<U+001B>[2J\n"
        "  ! conflict: interface 'br0' exists and is not the lab's (a bridge, alias "
        "'x<U+001B>]0;owned<U+0007><U+202E>')\n"
        "\n"
        "Plan: 0 to add, 0 to change, 1 to destroy.\n"
        "1 conflict: topo does not touch what is not the lab's; apply would refuse.\n");
  REQUIRE(!p.steps.empty());
  CHECK(describe(p.steps[0]) == "host: - dummy red<U+001B>[2J");
  CHECK(show_text(lab_view(observed, "web", {}), "web") ==
        "lab web\n"
        "netns host\n"
        "  dummy red<U+001B>[2J down mtu 0\n");
}

TEST_CASE("text: a veth whose peer is in a namespace topo did not read says so, not '?/'", "[render]") {
  // Its other end went into a container's namespace (or one the file no longer names).
  State observed = empty_kernel();
  added_link(observed, "host", "red-p", VethState{std::string(kUnknownNetns), ""}).alias = "topo:web";
  std::string toml =
      "lab = \"web\"\n[[netns]]\nname = \"red\"\n[[veth]]\na = { netns = \"red\", name = \"eth0\" }\n"
      "b = { name = \"red-p\" }\n";
  Plan p = plan_for(expected_state(lab(toml)), observed);
  CHECK(plan_text(p) ==
        "namespace host\n"
        "  -/+ veth red-p peer red/eth0 (peer in another namespace -> red/eth0)\n"
        "namespace red\n"
        "  + netns red\n"
        "  + veth eth0 peer host/red-p\n"
        "\n"
        "Plan: 3 to add, 0 to change, 1 to destroy.\n");
  CHECK(plan_text(plan_for(expected_state(lab("lab = \"web\"\n")), observed)) ==
        "namespace host\n"
        "  - veth red-p peer in another namespace\n"
        "\n"
        "Plan: 0 to add, 0 to change, 1 to destroy.\n");
  CHECK(plan_json(plan_for(expected_state(lab("lab = \"web\"\n")), observed), "web")
            .find(R"("peer":{"netns":null,"name":null})") != std::string::npos);
}

TEST_CASE("shell: a macvlan on a parent elsewhere is deleted before its namespace", "[render]") {
  // The kernel reaps a namespace in the background; until then the macvlan's MAC is taken
  // on its parent, and one made there again with it (a renamed namespace) is refused.
  auto with = [](const std::string& ns) {
    return expected_state(lab(R"(lab = "web"
[[netns]]
name = ")" + ns + R"("
[[veth]]
a = { name = "up0" }
b = { name = "up1" }
[[macvlan]]
name = "mv0"
netns = ")" + ns + R"("
parent = "up0"
mac = "02:00:00:00:00:07"
)"));
  };
  State blue = with("blue"), green = with("green");
  std::string sh = plan_shell(plan_for(green, applied(blue)), green, "web");
  CHECK(sh.substr(sh.find("ip -n blue"), sh.find("\n# green") - sh.find("ip -n blue")) ==
        "ip -n blue link del dev mv0\n"
        "ip netns delete blue\n"
        "rmdir /etc/netns/blue 2>/dev/null || true\n");
}

TEST_CASE("shell: a link whose mtu goes below 1280 loses its IPv6 addresses to the kernel", "[render]") {
  // The kernel turns IPv6 off on it and drops them; deleting one after would fail.
  auto with = [](const std::string& mtu, const std::string& addresses) {
    return expected_state(lab(R"(lab = "web"
[[veth]]
a = { name = "up0", mtu = 1500 }
b = { name = "up1" }
[[vxlan]]
name = "vx0"
id = 7
remote = "192.0.2.1"
dev = "up0"
mtu = )" + mtu + "\naddresses = [" +
                              addresses + "]\n"));
  };
  State before = with("1450", R"("10.10.0.2/24", "fd00:10::2/64")"), after = with("1230", R"("10.10.0.2/24")");
  std::string sh = plan_shell(plan_for(after, applied(before)), after, "web");
  CHECK(sh.find("ip link set dev vx0 mtu 1230\n") != std::string::npos);
  CHECK(sh.find("addr del") == std::string::npos);
  // Back: the mtu first, then the address, which IPv6 takes again.
  std::string back = plan_shell(plan_for(before, applied(after)), before, "web");
  size_t mtu = back.find("ip link set dev vx0 mtu 1450\n"), add = back.find("ip addr add fd00:10::2/64 dev vx0");
  CHECK(mtu != std::string::npos);
  CHECK(add != std::string::npos);
  CHECK(add > mtu);
}

TEST_CASE("json: names the kernel gives topo stay valid UTF-8, with what drives a terminal escaped", "[render]") {
  State observed = empty_kernel();
  // The lab's, renamed by someone: plan removes it.
  added_link(observed, "host", std::string("r\x7f\xc2\x9b\xe2\x80\xae\xff\xed\xa0\x80\xc0\xaf-\xc3\xa9", 16),
             kind_named("dummy"))
      .alias = "topo:web";
  std::string json = plan_json(plan_for(expected_state(lab("lab = \"web\"\n")), observed), "web");
  // DEL, CSI (C1) and RLO escaped; a stray byte, a surrogate and an overlong '/' each U+FFFD
  // per byte; é as it is.
  CHECK(json.find(R"("name":"r\u007f\u009b\u202e\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd-é")") != std::string::npos);
}

TEST_CASE("json: a link a network makes says where it comes from", "[render]") {
  State expected = expected_state(lab(R"(lab = "web"
[[network]]
name = "front"
subnets = ["172.20.0.0/24"]
[[netns]]
name = "db"
networks = ["front"]
)"));
  std::string json = plan_json(make_plan(diff(expected, empty_kernel(), "web")), "web");
  CHECK(json.find(R"("name":"front","kind":"bridge")") != std::string::npos);
  CHECK(json.find(R"("addresses":["172.20.0.1/24"],"origin":"network front"})") != std::string::npos);
  CHECK(json.find(R"("addresses":["172.20.0.2/24"],"origin":"network front, member db"})") != std::string::npos);
}

TEST_CASE("show: a route of topo's protocol in host is the lab's only when its record names it", "[render]") {
  // Two labs route from host: protocol 122 says topo's, not whose.
  State observed = empty_kernel();
  RouteState mine, theirs;
  mine.to = *parse_prefix("10.1.0.0/16");
  mine.via = parse_ip("192.0.2.1");
  mine.dev = "eth9";
  mine.protocol = kRouteProtocol;
  theirs = mine;
  theirs.to = *parse_prefix("10.2.0.0/16");
  observed.namespaces["host"].routes = {mine, theirs};
  std::set<RouteKey> record = {{"host", mine.to, mine.metric}};
  CHECK(show_text(lab_view(observed, "web", record), "web") ==
        "lab web\n"
        "netns host\n"
        "  route 10.1.0.0/16 via 192.0.2.1 dev eth9 proto topo\n");
}
