// `topo exec NS -- CMD...`: run a command inside a lab namespace as `ip netns exec` does:
// the network namespace entered; a mount namespace of its own (/ made a slave, so nothing
// mounted here leaks out) in which /sys is mounted again for the namespace (its
// /sys/class/net shows the namespace's links) and each /etc/netns/NS/FILE is bind-mounted
// over /etc/FILE (resolv.conf, hosts); then topo becomes the command (execvp), so the
// command's exit status is topo's, and a signal that kills it kills "topo" too (a shell
// shows 128+signal).
#pragma once

#include <sys/resource.h>

#include <string>
#include <vector>

namespace topo {

/// Does not return when the command starts. Returns 127 when it is not found, 126 when it
/// cannot be run (after printing why); throws KernelError when the namespace cannot be
/// entered. The command starts with the open-files limit `files` (topo's own before it
/// raised it).
int exec_in_netns(const std::string& netns, const std::vector<std::string>& command, const rlimit& files);

}  // namespace topo
