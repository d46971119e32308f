// Network namespaces as file descriptors, and a guard that runs code inside one. Netlink
// sockets and /proc/sys/net belong to the namespace of the thread that opens them, so a
// socket opened inside a namespace talks to it for as long as it lives.
#pragma once

#include <string>
#include <vector>

#include "executor/fd.h"

namespace topo {

/// Where `ip netns add NAME` keeps a namespace: /run/netns/NAME.
std::string named_netns_path(const std::string& name);

/// Opens a namespace file (/run/netns/NAME, /proc/PID/ns/net, or the current one when
/// `path` is empty). An empty Fd when it does not exist; throws KernelError on other errors.
Fd open_netns(const std::string& path);

/// Opens the namespace mounted at `path` now, if there is one: an empty Fd when the path does
/// not exist or holds no namespace. Another run's namespace can be an empty file for a moment
/// (made and not yet mounted, or unmounted and not yet removed): to a reader looking through
/// /run/netns that is no namespace, not an error. One open, then fstatfs on what was opened,
/// so nothing can change between the check and the open.
Fd open_netns_if_mounted(const std::string& path);

/// The names in /run/netns, sorted (none when it does not exist).
std::vector<std::string> named_namespaces();

/// True when `path` exists but no namespace is mounted on it: what a run killed between
/// making /run/netns/NAME and mounting the namespace there leaves.
bool is_stale_netns_file(const std::string& path);

/// Enters a namespace for the current thread and returns to the previous one when it goes.
class InNetns {
 public:
  explicit InNetns(const Fd& netns);
  ~InNetns();
  InNetns(const InNetns&) = delete;
  InNetns& operator=(const InNetns&) = delete;

 private:
  Fd home_;
};

}  // namespace topo
