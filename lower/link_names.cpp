#include "lower/link_names.h"

#include <fmt/format.h>

#include <cstdint>

namespace topo {

std::string readable_end_name(std::string_view network, std::string_view member) {
  std::string name = fmt::format("{}-{}", network, member);
  return name.size() <= 15 ? name : "";
}

std::string hashed_end_name(std::string_view lab, std::string_view network, std::string_view member) {
  // FNV-1a: stable across builds and machines, which std::hash is not.
  uint64_t h = 14695981039346656037ull;
  for (std::string_view part : {lab, network, member}) {
    for (char c : part) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // a separator no name contains
  }
  return fmt::format("{}-{:08x}", network.substr(0, 6), static_cast<uint32_t>(h ^ (h >> 32)));
}

}  // namespace topo
