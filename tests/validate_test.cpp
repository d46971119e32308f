// Checks across the whole lab: duplicates, references, and what the kernel would refuse.
#include "tests/lab_text.h"

using namespace topo::test;

TEST_CASE("duplicates point back at the first definition", "[validate]") {
  LoadedLab loaded = load_lab_text("lab.toml", R"(lab = "t"
[[netns]]
name = "red"
[[netns]]
name = "red"
)");
  CHECK(error_lines(loaded) == Lines{"5:8: netns 'red' is defined twice"});
  REQUIRE(loaded.errors[0].notes.size() == 1);
  CHECK(loaded.errors[0].notes[0].pos == SourcePos{3, 8});
  CHECK(loaded.errors[0].notes[0].message == "first defined here");
}

TEST_CASE("an interface name is unique within its namespace, lo is taken", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[bridge]]
name = "br0"
[[bridge]]
name = "br0"
netns = "red"
[[veth]]
a = { name = "br0" }
b = { name = "lo", netns = "red" }
)") == Lines{"10:14: interface 'br0' is defined twice in namespace 'host'",
             "11:14: interface name 'lo' is taken: every namespace has its loopback"});
}

TEST_CASE("a veth end's over-long name does not hide the other end's duplicate name", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[bridge]]
name = "br0"
[[veth]]
a = { name = "br0" }
b = { name = "a-name-far-too-long" }
)") == Lines{"5:14: interface 'br0' is defined twice in namespace 'host'",
             "6:14: interface name 'a-name-far-too-long' is 19 bytes long; at most 15 are allowed"});
}

TEST_CASE("one address on two links, one MAC on two links", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[bridge]]
name = "br0"
addresses = ["10.0.0.1/24"]
mac = "02:00:00:00:00:01"
[[bridge]]
name = "br1"
netns = "red"
addresses = ["10.0.0.1/16"]
mac = "02:00:00:00:00:01"
)") == Lines{"11:14: address 10.0.0.1 is already on interface 'br0' in namespace 'host'",
             "12:7: mac 02:00:00:00:00:01 is already on interface 'br0' in namespace 'host'"});
}

TEST_CASE("an address is not the broadcast address of another subnet of its namespace", "[validate]") {
  // Evolve seed 71: eth0's 10.152.0.127/24 got no prefix route once ve20's /25 came first.
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.152.0.127/24"] }
b = { netns = "red", name = "ve20", addresses = ["10.152.0.114/25"] }
[[veth]]
a = { name = "eth1", addresses = ["10.152.1.127/24"] }
b = { netns = "red", name = "ve21", addresses = ["10.152.1.1/25"] }
)") == Lines{"5:50: address 10.152.0.127 is the broadcast address of subnet 10.152.0.0/25 of 've20' in namespace "
             "'red'; the kernel would give 'eth0' no route to 10.152.0.0/24 when it comes second"});
}

TEST_CASE("references to undefined namespaces suggest the closest", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "blue"
[[bridge]]
name = "br0"
netns = "bleu"
[[route]]
netns = "green"
to = "default"
dev = "eth0"
)") == Lines{"6:9: netns 'bleu' is not defined (did you mean 'blue'?)", "8:9: netns 'green' is not defined"});
}

TEST_CASE("a master must be a bridge in the port's own namespace", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[bridge]]
name = "br0"
[[veth]]
a = { name = "v0", netns = "red", master = "br0" }
b = { name = "v1", master = "v2" }
[[veth]]
a = { name = "v2" }
b = { name = "v3", master = "bro" }
)") == Lines{"7:44: master 'br0' of 'v0' is a bridge in namespace 'host', not in 'red': a port "
             "and its bridge share a namespace",
             "8:29: master 'v2' of 'v1' is a veth, not a bridge",
             "11:29: master 'bro' of 'v3' is not a bridge of namespace 'host' (did you mean "
             "'br0'?)"});
}

TEST_CASE("a bridge takes at most 1023 ports", "[validate]") {
  std::string toml = "lab = \"t\"\n[[bridge]]\nname = \"br0\"\n";
  for (int i = 0; i < 1024; ++i)
    toml += fmt::format("[[veth]]\na = {{ name = \"a{}\", master = \"br0\" }}\nb = {{ name = \"b{}\" }}\n", i, i);
  auto e = errors(toml);
  REQUIRE(e.size() == 1);
  CHECK(e[0] == fmt::format("{}:32: bridge 'br0' has 1024 ports; a Linux bridge takes at most 1023", 4 + 3 * 1023 + 1));
}

TEST_CASE("in a namespace the lab creates, a route's dev must be the lab's", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[netns]]
name = "c1"
pid = 4242
[[veth]]
a = { name = "eth0", netns = "red", addresses = ["10.0.0.2/24"] }
b = { name = "red-p" }
[[route]]
netns = "red"
to = "default"
via = "10.0.0.1"
dev = "eth1"
[[route]]
netns = "c1"
to = "default"
dev = "eth9"
[[route]]
to = "10.9.0.0/16"
dev = "uplink"
)") == Lines{"14:7: dev 'eth1' is not an interface of namespace 'red' (did you mean 'eth0'?)"});
}

TEST_CASE("a gateway must be on a subnet of the namespace", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[veth]]
a = { name = "eth0", netns = "red", addresses = ["10.0.0.2/24", "fd00::2/64"] }
b = { name = "red-p" }
[[route]]
netns = "red"
to = "default"
via = "10.0.1.1"
[[route]]
netns = "red"
to = "10.2.0.0/16"
via = "10.0.0.1"
[[route]]
netns = "red"
to = "10.3.0.0/24"
dev = "eth0"
[[route]]
netns = "red"
to = "10.4.0.0/16"
via = "10.3.0.1"
)") == Lines{"10:7: gateway 10.0.1.1 is not on any subnet of namespace 'red' (its subnets: "
             "10.0.0.2/24, 10.3.0.0/24); the kernel would refuse the route"});
}

TEST_CASE("a route's via and to share a family, and link-local gateways need dev", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[route]]
to = "fd00::/64"
via = "10.0.0.1"
[[route]]
to = "default"
via = "fe80::1"
[[route]]
to = "10.0.0.0/24"
)") == Lines{"4:7: 'via' 10.0.0.1 is IPv4 but 'to' fd00::/64 is IPv6",
             "7:7: 'via' fe80::1 is link-local: the route needs 'dev' too",
             "8:1: [[route]] needs 'via', 'dev' or both"});
}

TEST_CASE("a route is defined once per destination and metric", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[route]]
to = "10.1.0.0/16"
dev = "eth0"
[[route]]
to = "10.1.0.0/16"
dev = "eth1"
[[route]]
to = "10.1.0.0/16"
dev = "eth1"
metric = 10
)") == Lines{"6:6: route to 10.1.0.0/16 with metric 0 is defined twice in namespace 'host'"});
}

TEST_CASE("vxlan: remote or group, matching families, unique id per port", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[vxlan]]
name = "vx0"
id = 1
[[vxlan]]
name = "vx1"
id = 2
local = "192.0.2.1"
remote = "fd00::2"
[[vxlan]]
name = "vx2"
id = 3
group = "192.0.2.9"
[[vxlan]]
name = "vx3"
id = 3
remote = "192.0.2.3"
)") == Lines{"2:1: [[vxlan]] 'vx0' needs 'remote' (a unicast peer), 'remotes' (several) or 'group' (a multicast group)",
             "9:10: 'remote' fd00::2 is IPv6 but 'local' 192.0.2.1 is IPv4",
             "13:9: 'group' in [[vxlan]] 'vx2' must be a multicast address; for a single peer "
             "use 'remote'",
             "13:9: 'group' in [[vxlan]] 'vx2' needs 'dev', the underlay interface to join the "
             "group on",
             "16:6: vxlan id 3 on port 4789 is already used by 'vx2' in namespace 'host'"});
}

TEST_CASE("macvlan: its parent is the lab's in a lab namespace, and not itself", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[macvlan]]
name = "mv0"
netns = "red"
parent = "eth0"
parent_netns = "red"
[[macvlan]]
name = "mv1"
parent = "mv1"
mode = "brige"
)") == Lines{"7:10: parent 'eth0' is not an interface of namespace 'red'",
             "11:10: macvlan 'mv1' cannot be its own parent",
             "12:8: 'mode' in [[macvlan]] 'mv1' is 'brige'; it must be one of bridge, private, "
             "vepa, passthru (did you mean 'bridge'?)"});
}

TEST_CASE("macvlan: not on a bridge port, which the kernel refuses", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[bridge]]
name = "br0"
[[veth]]
a = { name = "a0", master = "br0" }
b = { name = "b0" }
[[macvlan]]
name = "mv0"
parent = "a0"
)") == Lines{"9:10: parent 'a0' is a port of bridge 'br0'; the kernel refuses a macvlan on a "
             "bridge port (put the macvlan on the bridge instead)"});
}

TEST_CASE("IPv6 needs an mtu of 1280 or more", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[bridge]]
name = "br0"
addresses = ["fd00::1/64"]
mtu = 1000
)") == Lines{"5:7: mtu 1000 of 'br0' is below 1280, the least IPv6 needs, and it has IPv6 "
             "address fd00::1/64"});
}

TEST_CASE("a link whose default mtu is below 1280 takes no IPv6 address", "[validate]") {
  // Evolve seed 68: the macvlan eth1 left without mtu would be 1280 - 50, and the kernel
  // refuses its IPv6 address in the middle of the apply.
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "a"
[[macvlan]]
name = "mv0"
netns = "a"
parent = "eth0"
parent_netns = "host"
mtu = 1280
[[vxlan]]
name = "vx0"
netns = "a"
id = 5
remote = "192.0.2.1"
dev = "mv0"
[[macvlan]]
name = "mv1"
netns = "a"
parent = "vx0"
parent_netns = "a"
addresses = ["fd00::1/64"]
[[bridge]]
name = "br0"
addresses = ["fd00:1::1/64"]
[[veth]]
a = { name = "p0", master = "br0", mtu = 1200 }
b = { name = "p1", netns = "a" }
)") == Lines{"21:14: 'mv1' has IPv6 address fd00::1/64 but its mtu would be 1230 (that of its parent 'vx0'), "
             "below 1280, the least IPv6 needs; set its mtu or that of the link it comes from",
             "24:14: 'br0' has IPv6 address fd00:1::1/64 but its mtu would be 1200 (that of its smallest port), "
             "below 1280, the least IPv6 needs; set its mtu or that of the link it comes from"});
  CHECK(errors(R"(lab = "t"
[[macvlan]]
name = "mv0"
parent = "eth0"
mtu = 1300
[[vxlan]]
name = "vx0"
id = 5
remote = "192.0.2.1"
dev = "mv0"
addresses = ["fd00::1/64"]
)") == Lines{"11:14: 'vx0' has IPv6 address fd00::1/64 but its mtu would be 1250 (its underlay 'mv0' has "
             "mtu 1300, less 50 for the VXLAN headers), below 1280, the least IPv6 needs; set its mtu or "
             "that of the link it comes from"});
}

TEST_CASE("a port is mapped once per namespace and protocol", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "10.0.0.2:80"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "10.0.0.3:80"
[[nat]]
kind = "dnat"
proto = "udp"
port = 8080
to = "10.0.0.3:80"
)") == Lines{"10:8: tcp port 8080 is already mapped in namespace 'host'"});
}

TEST_CASE("every error of a file is reported at once", "[validate]") {
  // 200 lines of a good lab with 10 different mistakes spread through it.
  std::string toml = "lab = \"big\"\n";
  for (int i = 0; i < 40; ++i) toml += fmt::format("[[netns]]\nname = \"n{}\"\n", i);
  for (int i = 0; i < 38; ++i)
    toml += fmt::format("[[veth]]\na = {{ netns = \"n{}\", name = \"eth0\" }}\nb = {{ name = \"p{}\" }}\n", i, i);
  toml += R"([[netns]]
name = "n1"
[[bridge]]
name = "this-name-is-too-long"
[[bridge]]
name = "br0"
mtu = 10
[[veth]]
a = { name = "x0", adress = ["10.0.0.1/24"] }
b = { name = "x1", netns = "n99" }
[[route]]
to = "10.0.0.1/24"
dev = "br0"
[[route]]
netns = "n3"
to = "default"
via = "10.9.9.9"
[[nat]]
kind = "dnat"
proto = "tcp"
to = "10.0.0.2:80"
[[vxlan]]
name = "vx0"
id = 1
remote = "239.0.0.1"
[[macvlan]]
name = "mv0"
parent = "eth0"
mode = "private"
mac = "01:00:5e:00:00:01"
)";
  REQUIRE(std::count(toml.begin(), toml.end(), '\n') >= 200);
  auto e = errors(toml);
  CHECK(e == Lines{"197:8: netns 'n1' is defined twice",
                   "199:8: interface name 'this-name-is-too-long' is 21 bytes long; at most 15 are allowed",
                   "202:7: 'mtu' in [[bridge]] 'br0' is 10; it must be between 68 and 65535",
                   "204:20: unknown key 'adress' in [[veth]] end 'a' (did you mean 'addresses'?)",
                   "205:28: netns 'n99' is not defined (did you mean 'n9'?)",
                   "207:6: 'to' in [[route]] is 10.0.0.1/24, which has host bits set (did you mean "
                   "10.0.0.0/24?)",
                   "212:7: gateway 10.9.9.9 is not on any subnet of namespace 'n3' (it has no IPv4 address); "
                   "the kernel would refuse the route",
                   "213:1: missing required key 'port' in [[nat]] dnat",
                   "220:10: 'remote' in [[vxlan]] 'vx0' must be a unicast address; for a multicast address "
                   "use 'group'",
                   "225:7: mac 01:00:5e:00:00:01 cannot be an interface's address: it is a multicast address "
                   "(low bit of the first octet set)"});
}

TEST_CASE("macvlan: not on a macvlan, which the kernel moves to the parent's parent", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[veth]]
a = { name = "up0" }
b = { name = "up1" }
[[macvlan]]
name = "mv0"
netns = "red"
parent = "up0"
[[macvlan]]
name = "mv1"
parent = "mv0"
parent_netns = "red"
)") == Lines{"13:10: parent 'mv0' is a macvlan; the kernel would put 'mv1' on its parent 'up0' in namespace "
             "'host' instead (name that as the parent)"});
}

TEST_CASE("a VXLAN or macvlan does not run over itself", "[validate]") {
  // Neither could be made first (evolve seed 55).
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "n62"
[[vxlan]]
name = "vx60"
netns = "n62"
id = 13724056
group = "239.1.1.116"
dev = "eth0"
[[macvlan]]
name = "eth0"
netns = "n62"
parent = "vx60"
parent_netns = "n62"
)") == Lines{"9:7: vxlan 'vx60' runs over itself ('vx60' over 'eth0' over 'vx60'): none of them can be made first"});
}

TEST_CASE("a VXLAN or macvlan is not a port of the bridge it runs over", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[bridge]]
name = "br0"
[[vxlan]]
name = "vx0"
id = 7
remote = "192.0.2.1"
dev = "br0"
master = "br0"
[[macvlan]]
name = "mv0"
parent = "br0"
[[vxlan]]
name = "vx1"
id = 8
remote = "192.0.2.1"
dev = "mv0"
master = "br0"
)") == Lines{"9:10: master 'br0' of 'vx0' is the bridge it runs over; the kernel refuses a port on its own underlay",
             "18:10: master 'br0' of 'vx1' is the bridge it runs over; the kernel refuses a port on its own underlay"});
}

TEST_CASE("a VXLAN's mtu leaves room for its headers in its underlay's", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[veth]]
a = { name = "u0" }
b = { name = "u1", mtu = 9000 }
[[bridge]]
name = "br0"
[[vxlan]]
name = "vx0"
id = 7
remote = "192.0.2.1"
dev = "u0"
mtu = 1451
[[vxlan]]
name = "vx1"
id = 8
remote = "fd00::1"
dev = "br0"
mtu = 1450
[[vxlan]]
name = "vx2"
id = 9
remote = "192.0.2.1"
dev = "u1"
mtu = 8950
[[vxlan]]
name = "vx3"
id = 10
remote = "192.0.2.1"
dev = "eth0"
mtu = 9000
)") == Lines{"12:7: mtu 1451 of vxlan 'vx0' is above 1450, what its underlay 'u0' (mtu 1500) leaves after 50 bytes "
             "of VXLAN headers; the kernel would cut it down",
             "18:7: mtu 1450 of vxlan 'vx1' is above 1430, what its underlay 'br0' (mtu 1500) leaves after 70 bytes "
             "of VXLAN headers; the kernel would cut it down"});
}

TEST_CASE("macvlan: its mtu is at most its parent's", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[bridge]]
name = "br0"
[[veth]]
a = { name = "up0", mtu = 9000 }
b = { name = "up1" }
[[macvlan]]
name = "mv0"
parent = "br0"
mtu = 9000
[[macvlan]]
name = "mv1"
parent = "up0"
mtu = 9000
[[macvlan]]
name = "mv2"
parent = "up1"
mtu = 1500
)") == Lines{"10:7: mtu 9000 of macvlan 'mv0' is above 1500, its parent 'br0''s; the kernel refuses a macvlan more "
             "than its parent's"});
}

TEST_CASE("no IPv6 address where the file disables IPv6", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
sysctl = { "net.ipv6.conf.all.disable_ipv6" = 1 }
[[netns]]
name = "blue"
sysctl = { "net.ipv6.conf.eth0.disable_ipv6" = 1, "net.ipv6.conf.default.disable_ipv6" = 0 }
[[veth]]
a = { name = "eth0", netns = "red", addresses = ["10.0.0.1/24", "fd00::1/64"] }
b = { name = "eth0", netns = "blue", addresses = ["fd00::2/64"] }
)") == Lines{
           "9:65: 'eth0' has IPv6 address fd00::1/64, but namespace 'red' sets net.ipv6.conf.all.disable_ipv6 = 1: "
           "the kernel refuses IPv6 addresses there",
           "10:51: 'eth0' has IPv6 address fd00::2/64, but namespace 'blue' sets net.ipv6.conf.eth0.disable_ipv6 = 1: "
           "the kernel refuses IPv6 addresses there"});
}

TEST_CASE("a gateway on the subnets of two links needs a dev", "[validate]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
[[veth]]
a = { name = "a0", netns = "red", addresses = ["10.29.0.1/24"] }
b = { name = "b0", netns = "red", addresses = ["10.29.0.2/24"] }
[[route]]
netns = "red"
to = "172.30.0.0/16"
via = "10.29.0.83"
[[route]]
netns = "red"
to = "172.31.0.0/16"
via = "10.29.0.83"
dev = "b0"
)") == Lines{"10:7: gateway 10.29.0.83 is on a subnet of 'a0' and 'b0' in namespace 'red': say which with `dev` "
             "(the kernel would take whichever got its address first)"});
}
