// Named network namespaces as `ip netns add` makes them: a bind mount of the namespace's
// nsfs file on /run/netns/NAME, with /run/netns a shared mount point, so that `ip netns
// exec` and every other tool find them.
#pragma once

#include <string>

#include "executor/netns.h"

namespace topo {

/// Creates the namespace NAME; throws KernelError (EEXIST when the name is taken).
void create_named_netns(const std::string& name);

/// Unmounts and removes /run/netns/NAME; the kernel frees the namespace once nothing else
/// holds it, taking its links with it.
void delete_named_netns(const std::string& name);

/// Mounts the namespace `held` (an open namespace fd) as NAME again: undoes
/// delete_named_netns for a namespace that topo kept alive by holding it.
void reattach_named_netns(const std::string& name, const Fd& held);

}  // namespace topo
