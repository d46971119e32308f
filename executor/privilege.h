// What a command needs of the kernel's capabilities, checked before it does anything: a
// command run without one would otherwise get as far as the first request the kernel
// refuses (EPERM, "entering a network namespace: Operation not permitted"), having made
// /run/topo/LAB on the way, and say nothing of what is missing. `validate`, `graph` and
// `completion` need none and are never checked.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace topo {

struct Capability {
  int number;        // CAP_NET_ADMIN, ...
  const char* name;  // "CAP_NET_ADMIN"
  const char* why;   // "to change links, addresses, routes and nftables tables"
};

// What each capability is needed for, in the words the error gives.
Capability net_admin_to_change();
Capability net_admin_to_read_nftables();
Capability sys_admin_to_make_namespaces();
Capability sys_admin_to_enter_namespaces();
Capability sys_admin_to_exec();
Capability net_raw_to_probe();

/// A command stopped, before doing anything, for want of capabilities: "apply needs ...".
class MissingCapability : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws MissingCapability naming each of `needed` that the process's effective set lacks
/// and what `command` needs it for. When the set cannot be read, lets the kernel decide.
void require_capabilities(const std::string& command, const std::vector<Capability>& needed);

}  // namespace topo
