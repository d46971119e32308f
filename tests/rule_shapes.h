// Labs with every rule shape topo makes, NAT and filter: the kernel tests compare the rules
// topo makes with those nft makes from the shell plan, and tests/nft_rule_test.cpp runs each
// rule through the netlink encoding and back.
#pragma once

namespace topo::test {

// Every NAT kind in both families, prefixes on and off byte boundaries, names, negated
// names, ports.
inline const char* kNatShapes = R"(lab = "rich"
[[netns]]
name = "r"
[[nat]]
kind = "masquerade"
source = "10.0.0.0/24"
[[nat]]
kind = "masquerade"
source = "10.16.0.0/12"
out = "eth0"
[[nat]]
kind = "masquerade"
out = "up0"
[[nat]]
kind = "masquerade"
source = "fd01::/61"
[[nat]]
kind = "snat"
source = "10.1.0.7/32"
to = "192.0.2.1"
out = "eth1"
[[nat]]
kind = "snat"
source = "fd02::/48"
to = "fd02::1"
[[nat]]
netns = "r"
kind = "masquerade"
source = "0.0.0.0/0"
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
netns = "r"
kind = "dnat"
proto = "tcp"
port = 443
to = "fd00::3"
[[nat]]
kind = "dnat"
proto = "udp"
port = 1000
to = "10.0.0.9"
[[nat]]
kind = "masquerade"
source = "172.17.0.0/16"
out = "!docker9"
[[nat]]
netns = "r"
kind = "dnat"
proto = "tcp"
port = 8443
to = "10.0.0.4"
in = "!uplink"
)";

// Every filter shape: each chain and action, negations, port lists and ranges, states,
// ICMP of both families, isolation between bridges, a namespace policy.
inline const char* kFilterShapes = R"(lab = "rich"
[[netns]]
name = "r"
[netns.policy]
output = "drop"
[[bridge]]
name = "b1"
isolate = true
[[bridge]]
name = "b2"
isolate = true
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
source = "10.16.0.0/12"
destination = "!10.1.2.0/25"
out = "!b1"
proto = "udp"
port = [53, "5000-5100"]
state = ["established", "related", "new"]
[[filter]]
chain = "input"
action = "reject"
proto = "icmp"
[[filter]]
chain = "input"
action = "accept"
source = "fd00::/64"
destination = "fd01::/61"
proto = "icmpv6"
state = "new"
[[filter]]
chain = "output"
action = "drop"
destination = "0.0.0.0/0"
out = "up0"
[[filter]]
netns = "r"
chain = "output"
action = "accept"
state = ["established", "related"]
[[filter]]
netns = "r"
chain = "output"
action = "reject"
proto = "tcp"
)";

}  // namespace topo::test
