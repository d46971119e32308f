#include "lower/link_names.h"

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>

namespace topo {

std::string readable_end_name(std::string_view network, std::string_view member) {
  std::string name = fmt::format("{}-{}", network, member);
  return name.size() <= 15 ? name : "";
}

uint32_t names_hash(std::initializer_list<std::string_view> parts) {
  uint64_t h = 14695981039346656037ull;
  for (std::string_view part : parts) {
    for (char c : part) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // a separator no name contains
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

std::string hashed_end_name(std::string_view lab, std::string_view network, std::string_view member) {
  return fmt::format("{}-{:08x}", network.substr(0, 6), names_hash({lab, network, member}));
}

std::string segment_name(std::string_view bridge, std::string_view suffix) {
  if (bridge.size() + suffix.size() <= 15) return fmt::format("{}{}", bridge, suffix);
  size_t keep = suffix.size() + 6 < 15 ? 15 - suffix.size() - 6 : 0;
  return fmt::format("{}{:06x}{}", bridge.substr(0, keep), names_hash({bridge}) & 0xffffff, suffix);
}

MacAddress bridge_mac(std::string_view lab, std::string_view netns, std::string_view bridge) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bits
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0) * 1099511628211ull;  // a separator: ("ab","c") and ("a","bc") differ
  };
  mix(lab), mix(netns), mix(bridge);
  MacAddress m;
  for (size_t i = 0; i < m.bytes.size(); ++i) m.bytes[i] = static_cast<uint8_t>(h >> (8 * i));
  m.bytes[0] = static_cast<uint8_t>((m.bytes[0] & 0xfc) | 0x02);  // locally administered, unicast
  return m;
}

}  // namespace topo
