// The host-side end of a member's veth: named from the lab, network and member names alone
// (never from their order, so that adding a member renames no one), at most 15 bytes.
#pragma once

#include <string>
#include <string_view>

namespace topo {

/// "front-web" where it fits in 15 bytes; otherwise the network's first 6 characters, '-'
/// and 8 hex digits of a hash of the three names ("backen-3f2a9c01").
std::string readable_end_name(std::string_view network, std::string_view member);
std::string hashed_end_name(std::string_view lab, std::string_view network, std::string_view member);

}  // namespace topo
