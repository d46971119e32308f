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

std::string sysctl_interface(const std::string& key) {
  for (std::string_view prefix : {"net.ipv4.conf.", "net.ipv6.conf.", "net.ipv4.neigh.", "net.ipv6.neigh."}) {
    if (key.rfind(prefix, 0) != 0) continue;
    std::string rest = key.substr(prefix.size());
    std::string dev = rest.substr(0, rest.find('.'));
    return dev == "all" || dev == "default" ? "" : dev;
  }
  return "";
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

AddressChange address_change(const LinkState& before, const LinkState& after) {
  AddressChange c;
  auto has = [](const std::vector<IpPrefix>& in, const IpPrefix& p) { return std::find(in.begin(), in.end(), p) != in.end(); };
  auto v4 = [](const IpPrefix& p) { return p.address.family == Family::v4; };
  for (const IpPrefix& p : after.addresses)
    if (!has(before.addresses, p)) c.added.push_back(p);
  for (const IpPrefix& p : addresses_to_remove(before, after)) {
    bool clashes = !v4(p) && std::any_of(c.added.begin(), c.added.end(), [&](const IpPrefix& n) { return n.address == p.address; });
    (clashes ? c.first : c.then).push_back(p);
  }
  c.promote = std::any_of(c.then.begin(), c.then.end(), v4) && std::any_of(after.addresses.begin(), after.addresses.end(), v4);
  return c;
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
