// Lab texts that several test files share, and the one way the tests edit a lab's text.
#pragma once

#include <string>

namespace topo::test {

/// Host bridge br0 (10.0.0.1/24) and red's link to it, a piece of several labs: a veth from
/// red's eth0 (10.0.0.2/24) to red-p, a port of br0. Namespace red is each lab's own.
inline const char* kRedOnBridge = R"([[bridge]]
name = "br0"
addresses = ["10.0.0.1/24"]
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24"] }
b = { name = "red-p", master = "br0" }
)";

/// Lab "web": red behind a host bridge, its default route through it, forwarding on in host,
/// and /etc/netns files (dns and hosts) for red.
inline const std::string kWebLab = std::string(R"(lab = "web"
[host]
sysctl = { "net.ipv4.ip_forward" = 1 }
[[netns]]
name = "red"
hosts = { blue = "10.0.0.3" }
dns = ["10.0.0.1"]
)") + kRedOnBridge + R"([[route]]
netns = "red"
to = "default"
via = "10.0.0.1"
)";

/// Lab "web" with two namespaces on host bridge br0, red (both families) and blue, and a
/// macvlan in blue on a host veth end: a link of every kind that lives in a namespace.
inline const char* kRedAndBlueLab = R"(lab = "web"
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

/// A macvlan in red on host bridge br0, and the port that lowers br0 when it joins: with its
/// mtu of 1280 the kernel moves br0 to 1280, and mv0 with it.
inline const char* kMacvlanOnBridge = R"(lab = "web"
[[netns]]
name = "red"
[[bridge]]
name = "br0"
[[macvlan]]
name = "mv0"
parent = "br0"
netns = "red"
)";
inline const char* kLoweringPort = R"([[veth]]
a = { netns = "red", name = "eth0", mtu = 1280 }
b = { name = "red-p", master = "br0", mtu = 1280 }
)";

/// `lab` with the first `from` in it replaced by `to` (which must be there).
inline std::string edited(std::string lab, const std::string& from, const std::string& to) {
  lab.replace(lab.find(from), from.size(), to);
  return lab;
}

/// Two namespaces joined by a veth, the far end with an interface sysctl (evolve seed 111):
/// n13's removal takes eth0 out of n49. Without its `lab = ` line.
inline const std::string kFarSysctlNamespaces = R"([[netns]]
name = "n13"
[[netns]]
name = "n49"
sysctl = { "net.ipv4.conf.eth0.rp_filter" = 1 }
[[veth]]
a = { name = "eth0", netns = "n49" }
b = { name = "eth2", netns = "n13" }
)";

}  // namespace topo::test
