// Named network namespaces as `ip netns add` makes them: a bind mount of the namespace's
// nsfs file on /run/netns/NAME, with /run/netns a shared mount point, so that `ip netns
// exec` and every other tool find them.
#pragma once

#include <functional>
#include <string>

#include "executor/fd.h"

namespace topo {

/// Makes named namespaces for one run: /run/netns is checked (a directory, not a link) and
/// made a shared mount point once, not once a namespace, and the thread's home namespace is
/// opened once to come back to.
class NetnsMaker {
 public:
  /// Creates the namespace NAME and returns it open; throws KernelError (EEXIST when the
  /// name is taken). `inside`, when given, runs in the new namespace on this thread before
  /// it comes home: a netlink socket opened there talks to the namespace, without a second
  /// visit to open one.
  Fd create(const std::string& name, const std::function<void()>& inside = nullptr);

 private:
  bool run_dir_ready_ = false;
  Fd home_;
};

/// Unmounts and removes /run/netns/NAME; the kernel frees the namespace once nothing else
/// holds it, taking its links with it.
void delete_named_netns(const std::string& name);

/// Mounts the namespace `held` (an open namespace fd) as NAME again: undoes
/// delete_named_netns for a namespace that topo kept alive by holding it.
void reattach_named_netns(const std::string& name, const Fd& held);

}  // namespace topo
