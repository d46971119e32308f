// The lab's files for a namespace, /etc/netns/NS/resolv.conf and hosts (which `ip netns
// exec` and `topo exec` bind over /etc). Read and written through directory descriptors
// with O_NOFOLLOW (executor/no_follow.h): a symbolic link at /etc/netns, /etc/netns/NS or a
// file there is refused, never followed, so a link to /etc cannot make topo overwrite or
// remove the machine's own /etc/resolv.conf.
#pragma once

#include <map>
#include <string>

namespace topo {

/// The files topo keeps for `netns` that exist, by name. Throws KernelError (a link).
std::map<std::string, std::string> read_netns_files(const std::string& netns);

/// /etc/netns/NS/FILE written whole (made with its directories when missing).
void write_netns_file(const std::string& netns, const std::string& file, const std::string& text);

/// /etc/netns/NS/FILE removed (absent is fine), and /etc/netns/NS with it when that leaves
/// it empty: other files there are not the lab's.
void remove_netns_file(const std::string& netns, const std::string& file);

}  // namespace topo
