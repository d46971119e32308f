// A VXLAN's flooding list in netlink's bytes: the all-zeros forwarding entries (`bridge fdb
// append 00:00:00:00:00:00 dev vx0 dst 192.0.2.2`) that send each frame with no known
// destination to every remote, and those entries as a neighbour dump (AF_BRIDGE) gives
// them. Pure, so that both are tested without root and the decoding is fuzzed with the
// other dumps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "parser/address.h"

namespace topo {

/// The request that adds (NLM_F_CREATE | NLM_F_APPEND) or deletes the entry of VXLAN
/// `ifindex` to `remote`.
std::vector<std::byte> fdb_request(int ifindex, const IpAddress& remote, bool add, uint32_t seq = 0);

/// The dump request of a namespace's bridge forwarding entries (RTM_GETNEIGH, AF_BRIDGE).
std::vector<std::byte> fdb_dump_request(uint32_t seq = 0);

/// One all-zeros entry: the VXLAN it is on and where it floods to.
struct FloodEntry {
  int ifindex = 0;
  IpAddress remote;
};
/// The entry one RTM_NEWNEIGH message holds (`message`: its bytes, nlmsg_len of them) when
/// it is a permanent all-zeros entry with a destination; nullopt for any other (a learned
/// address, a bridge's own) and anything malformed.
std::optional<FloodEntry> decode_flood_entry(std::span<const std::byte> message);

}  // namespace topo
