// The lab format as the reader sees it: what parses into which model, and what each
// one-table mistake is called.
#include "tests/lab_text.h"

#include "parser/describe.h"

using namespace topo::test;

TEST_CASE("the smallest lab is its name", "[reader]") {
  Lab l = lab(R"(lab = "web")");
  CHECK(l.name.value == "web");
  CHECK(describe(l) == "lab web\nnetns host\n");
}

TEST_CASE("a veth makes two interfaces that point at each other", "[reader]") {
  Lab l = lab(R"(
lab = "t"
[[netns]]
name = "red"
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24"], mac = "02:00:00:00:00:02" }
b = { name = "red-p", mtu = 1400 }
mtu = 9000
)");
  REQUIRE(l.interfaces.size() == 2);
  CHECK(describe(l, l.interfaces[0]) == "veth eth0 peer host/red-p 10.0.0.2/24 mtu 9000 mac 02:00:00:00:00:02");
  CHECK(describe(l, l.interfaces[1]) == "veth red-p peer red/eth0 mtu 1400");
  CHECK(l.interfaces[0].pos == SourcePos{6, 5});
  CHECK(l.interfaces[1].netns.value == "host");
}

TEST_CASE("veth ends may also be written as sub-tables", "[reader]") {
  Lab l = lab(R"(
lab = "t"
[[veth]]
a.name = "v0"
[veth.b]
name = "v1"
)");
  REQUIRE(l.interfaces.size() == 2);
  CHECK(describe(l, l.interfaces[1]) == "veth v1 peer host/v0");
}

TEST_CASE("defaults: netns host, vxlan port 4789, macvlan bridge mode from host", "[reader]") {
  Lab l = lab(R"(
lab = "t"
[[netns]]
name = "red"
[[vxlan]]
name = "vx1"
id = 7
remote = "192.0.2.2"
[[macvlan]]
name = "mv0"
netns = "red"
parent = "eth0"
)");
  CHECK(describe(l) ==
        "lab t\n"
        "netns host\n"
        "  vxlan vx1 id 7 remote 192.0.2.2 port 4789\n"
        "netns red\n"
        "  macvlan mv0 parent host/eth0 mode bridge\n");
}

TEST_CASE("a default route takes the family of its gateway", "[reader]") {
  Lab l = lab(R"(
lab = "t"
[[route]]
to = "default"
via = "fd00::1"
dev = "eth0"
[[route]]
to = "default"
dev = "eth0"
)");
  CHECK(l.routes[0].to.value.address.family == Family::v6);
  CHECK(describe(l.routes[0]) == "route ::/0 via fd00::1 dev eth0");
  CHECK(describe(l.routes[1]) == "route default dev eth0");
}

TEST_CASE("NAT rules of each kind", "[reader]") {
  Lab l = lab(R"(
lab = "t"
[[nat]]
kind = "masquerade"
source = "10.0.0.0/24"
out = "eth0"
[[nat]]
kind = "snat"
source = "10.0.1.0/24"
to = "192.0.2.1"
[[nat]]
kind = "dnat"
proto = "udp"
port = 5353
to = "[fd00::2]:53"
[[nat]]
kind = "dnat"
proto = "tcp"
port = 8080
to = "10.0.0.2"
)");
  CHECK(describe(l.nats[0]) == "nat masquerade 10.0.0.0/24 out eth0");
  CHECK(describe(l.nats[1]) == "nat snat 10.0.1.0/24 -> 192.0.2.1");
  CHECK(describe(l.nats[2]) == "nat dnat udp 5353 -> [fd00::2]:53");
  CHECK(describe(l.nats[3]) == "nat dnat tcp 8080 -> 10.0.0.2");
  CHECK(l.nats[2].family() == Family::v6);
}

TEST_CASE("sysctl values are integers or strings, and files get dns and hosts", "[reader]") {
  Lab l = lab(R"(
lab = "t"
[host]
sysctl = { "net.ipv4.ip_forward" = 1, "net.ipv4.ping_group_range" = "0 2147483647" }
[[netns]]
name = "red"
dns = ["10.0.0.1", "fd00::1"]
hosts = { db = ["10.0.0.4", "fd00::4"], web = "10.0.0.5" }
)");
  CHECK(describe(l) ==
        "lab t\n"
        "netns host\n"
        "  sysctl net.ipv4.ip_forward = 1\n"
        "  sysctl net.ipv4.ping_group_range = 0 2147483647\n"
        "netns red\n"
        "  dns 10.0.0.1\n"
        "  dns fd00::1\n"
        "  hosts db 10.0.0.4 fd00::4\n"
        "  hosts web 10.0.0.5\n");
}

TEST_CASE("TOML syntax errors stop at the first, with its position", "[reader]") {
  CHECK(errors("lab = \"x\"\nlab = \"y\"\n") ==
        Lines{"2:7: invalid TOML: key-value pair: cannot redefine existing string 'lab'"});
  CHECK(errors("lab = \n") == Lines{"1:7: invalid TOML: key-value pair: expected value, saw '\\n'"});
  CHECK(errors("lab = \"\xff\"\n")[0].substr(0, 19) == "1:7: invalid TOML: ");
}

TEST_CASE("an empty file lacks its lab name", "[reader]") {
  CHECK(errors("") == Lines{"1:1: missing required key 'lab' (the lab's name, like lab = \"web\")"});
}

TEST_CASE("unknown keys are named with where they are and a did-you-mean", "[reader]") {
  CHECK(errors(R"(lab = "t"
[[veth]]
a = { name = "v0", adress = ["10.0.0.2/24"] }
b = { name = "v1" }
)") == Lines{"3:20: unknown key 'adress' in [[veth]] end 'a' (did you mean 'addresses'?)"});
  CHECK(errors("lab = \"t\"\n[[brige]]\nname = \"br0\"\n") ==
        Lines{"2:3: unknown key 'brige' in the top level (did you mean 'bridge'?)"});
  CHECK(errors("lab = \"t\"\ncolour = 1\n") == Lines{"2:1: unknown key 'colour' in the top level"});
}

TEST_CASE("wrong types say what was expected and what was found", "[reader]") {
  CHECK(errors(R"(lab = "t"
[[bridge]]
name = "br0"
mtu = "1500"
addresses = "10.0.0.1/24"
)") == Lines{"4:7: 'mtu' in [[bridge]] 'br0' must be an integer, not a string",
             "5:13: 'addresses' in [[bridge]] 'br0' must be an array of strings, not a string"});
  CHECK(errors("lab = 5\n") == Lines{"1:7: 'lab' in the top level must be a string, not an integer"});
  CHECK(errors("lab = \"t\"\n[netns]\nname = \"a\"\n") ==
        Lines{"2:1: 'netns' must be an array of tables: write [[netns]], not [netns]"});
  CHECK(errors("lab = \"t\"\nnetns = [\"a\"]\n") == Lines{"2:10: each [[netns]] entry must be a table, not a string"});
}

TEST_CASE("names follow their rules", "[reader]") {
  CHECK(errors(R"(lab = "averyverylongname")") ==
        Lines{"1:7: lab name 'averyverylongname' is 17 characters long; at most 12 are allowed"});
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "host"
[[netns]]
name = "a/b"
[[bridge]]
name = "br%d"
[[bridge]]
name = "sixteen-bytes-xx"
)") == Lines{"3:8: netns name 'host' is reserved for the namespace topo runs in",
             "5:8: netns name 'a/b' has character '/', which is not allowed (use A-Z, a-z, 0-9, "
             "'_' and '-')",
             "7:8: interface name 'br%d' has character '%', which is not allowed (the kernel "
             "would replace \"%d\" with a number)",
             "9:8: interface name 'sixteen-bytes-xx' is 16 bytes long; at most 15 are allowed"});
}

TEST_CASE("numbers out of range", "[reader]") {
  CHECK(errors(R"(lab = "t"
[[vxlan]]
name = "vx0"
id = 16777216
remote = "192.0.2.1"
port = 0
mtu = 67
[[route]]
to = "default"
dev = "eth0"
metric = -1
)") == Lines{"4:6: 'id' in [[vxlan]] 'vx0' is 16777216; it must be between 0 and 16777215",
             "6:8: 'port' in [[vxlan]] 'vx0' is 0; it must be between 1 and 65535",
             "7:7: 'mtu' in [[vxlan]] 'vx0' is 67; it must be between 68 and 65535",
             "11:10: 'metric' in [[route]] is -1; it must be between 0 and 4294967295"});
}

TEST_CASE("text that would inject lines into /etc/netns files is refused", "[reader]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "red"
dns = ["10.0.0.1\nnameserver 192.0.2.53"]
hosts = { "db\nevil" = "10.0.0.4", web = "10.0.0.5 # x" }
)") == Lines{"4:8: dns entry contains a line break, which would inject lines into the files topo "
             "writes",
             "5:11: host name 'db\\nevil' has character '\\n', which is not allowed",
             "5:42: address of host 'web' is '10.0.0.5 # x', which is not an IPv4 or IPv6 "
             "address"});
}

TEST_CASE("keys that exclude each other", "[reader]") {
  CHECK(errors(R"(lab = "t"
[[netns]]
name = "c1"
pid = 42
path = "/proc/42/ns/net"
)") == Lines{"5:1: 'pid' and 'path' cannot both be set in [[netns]] 'c1': a namespace is "
             "adopted by one or the other"});
}

TEST_CASE("NAT keys belong to their kind", "[reader]") {
  CHECK(errors(R"(lab = "t"
[[nat]]
kind = "masquerade"
source = "10.0.0.0/24"
port = 80
[[nat]]
kind = "dnat"
proto = "sctp"
port = 80
to = "10.0.0.2:99999"
)") == Lines{"5:1: 'port' does not apply to a masquerade rule (only to dnat)",
             "8:9: 'proto' in [[nat]] dnat is 'sctp'; it must be one of tcp, udp",
             "10:6: 'to' in [[nat]] dnat is '10.0.0.2:99999'; it must be an address with an "
             "optional port, like 10.0.0.2:80 or [fd00::2]:80"});
}
