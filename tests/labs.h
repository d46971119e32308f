// Lab texts that several test files share, and the one way the tests edit a lab's text.
#pragma once

#include <string>

namespace topo::test {

/// Lab "web": red behind a host bridge, its default route through it, forwarding on in host,
/// and /etc/netns files (dns and hosts) for red.
inline const char* kWebLab = R"(lab = "web"
[host]
sysctl = { "net.ipv4.ip_forward" = 1 }
[[netns]]
name = "red"
hosts = { blue = "10.0.0.3" }
dns = ["10.0.0.1"]
[[bridge]]
name = "br0"
addresses = ["10.0.0.1/24"]
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24"] }
b = { name = "red-p", master = "br0" }
[[route]]
netns = "red"
to = "default"
via = "10.0.0.1"
)";

/// `lab` with the first `from` in it replaced by `to` (which must be there).
inline std::string edited(std::string lab, const std::string& from, const std::string& to) {
  lab.replace(lab.find(from), from.size(), to);
  return lab;
}

}  // namespace topo::test
