#include "executor/privilege.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace topo {
namespace {

// capget(2) directly: one system call is not worth a dependency on libcap.
bool effective(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return true;
  return data[cap / 32].effective & (1u << (cap % 32));
}

}  // namespace

Capability net_admin_to_change() {
  return {CAP_NET_ADMIN, "CAP_NET_ADMIN", "to change links, addresses, routes and nftables tables"};
}
Capability net_admin_to_read_nftables() {
  return {CAP_NET_ADMIN, "CAP_NET_ADMIN",
          "to read the lab's nftables tables: the kernel answers no nftables request without it"};
}
Capability sys_admin_to_make_namespaces() {
  return {CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "to make, enter and unmount network namespaces"};
}
Capability sys_admin_to_enter_namespaces() {
  return {CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "to enter network namespaces, host's included, and read them"};
}
Capability sys_admin_to_exec() {
  return {CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "to enter the namespace and make the command a mount namespace"};
}
Capability net_raw_to_probe() { return {CAP_NET_RAW, "CAP_NET_RAW", "for the raw ICMP sockets of its probes"}; }

void require_capabilities(const std::string& command, const std::vector<Capability>& needed) {
  std::vector<Capability> missing;
  for (const Capability& c : needed)
    if (!effective(c.number)) missing.push_back(c);
  if (missing.empty()) return;
  std::string text = command + " needs ";
  for (size_t i = 0; i < missing.size(); ++i) {
    if (i > 0) text += i + 1 == missing.size() ? " and " : ", ";
    text += std::string(missing[i].name) + " (" + missing[i].why + ")";
  }
  text += ", which this process does not have: run it as root. Nothing was changed.";
  throw MissingCapability(text);
}

}  // namespace topo
