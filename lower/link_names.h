// The host-side end of a member's veth: named from the lab, network and member names alone
// (never from their order, so that adding a member renames no one), at most 15 bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "parser/address.h"

namespace topo {

/// FNV-1a of the parts: stable across builds and machines, which std::hash is not, so that
/// every machine of a lab derives the same names and numbers from the file alone.
uint32_t names_hash(std::initializer_list<std::string_view> parts);

/// "front-web" where it fits in 15 bytes; otherwise the network's first 6 characters, '-'
/// and 8 hex digits of a hash of the three names ("backen-3f2a9c01").
std::string readable_end_name(std::string_view network, std::string_view member);
std::string hashed_end_name(std::string_view lab, std::string_view network, std::string_view member);

/// A link of a network's segment: BRIDGE + `suffix` ("front_s1") where that fits in 15
/// bytes; otherwise BRIDGE's first characters and 6 hex digits of a hash of all of it
/// ("verylo3c5e1a_s1"), so that two bridges alike in their first characters stay apart.
std::string segment_name(std::string_view bridge, std::string_view suffix);

/// The address of a bridge the lab makes when the file gives it none: fixed, derived from the
/// lab's, namespace's and bridge's names (locally administered), as Docker gives its bridges.
/// Without one the kernel gives a bridge the lowest address of its ports, so a member
/// joining or leaving would change the gateway address every other member has cached.
MacAddress bridge_mac(std::string_view lab, std::string_view netns, std::string_view bridge);

}  // namespace topo
