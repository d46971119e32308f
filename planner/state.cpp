#include "planner/state.h"

#include <algorithm>
#include <tuple>

namespace topo {

namespace {
constexpr std::string_view kMarkPrefix = "topo:";
}

std::string ownership_mark(std::string_view lab) { return std::string(kMarkPrefix) + std::string(lab); }

std::string lab_of_mark(std::string_view alias) {
  if (alias.substr(0, kMarkPrefix.size()) != kMarkPrefix) return "";
  return std::string(alias.substr(kMarkPrefix.size()));
}

uint32_t ownership_group(std::string_view lab) {
  uint32_t h = 2166136261u;
  for (unsigned char c : lab) h = (h ^ c) * 16777619u;
  return (h & 0x3fffffffu) | 0x10000000u;  // iproute2 takes a group up to INT_MAX only
}

std::string nat_table_name(std::string_view lab) { return "topo-" + std::string(lab); }

const NatChain* NatTable::find_chain(std::string_view name) const {
  for (const NatChain& c : chains)
    if (c.name == name) return &c;
  return nullptr;
}

bool LinkState::same_identity(const LinkState& o) const {
  auto key = [](const LinkState& l) {
    return std::tie(l.kind, l.peer_netns, l.peer_name, l.vxlan_id, l.vxlan_local, l.vxlan_remote,
                    l.vxlan_group, l.vxlan_dev, l.vxlan_port, l.macvlan_mode, l.macvlan_parent,
                    l.macvlan_parent_netns);
  };
  return key(*this) == key(o);
}

bool dropped_on_down(const IpPrefix& p) { return p.address.family == Family::v6; }

std::vector<IpPrefix> addresses_to_remove(const LinkState& before, const LinkState& after) {
  const bool goes_down = before.up && !after.up;
  std::vector<IpPrefix> out;
  for (const IpPrefix& p : before.addresses)
    if (std::find(after.addresses.begin(), after.addresses.end(), p) == after.addresses.end() &&
        !(goes_down && dropped_on_down(p)))
      out.push_back(p);
  return out;
}

const LinkState* NamespaceState::find_link(std::string_view name) const {
  for (const LinkState& l : links)
    if (l.name == name) return &l;
  return nullptr;
}

const NamespaceState* State::find(std::string_view netns) const {
  auto it = namespaces.find(std::string(netns));
  return it == namespaces.end() ? nullptr : &it->second;
}

}  // namespace topo
