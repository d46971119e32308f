#include "parser/model.h"

namespace topo {

std::string_view to_string(MacvlanMode m) {
  switch (m) {
    case MacvlanMode::bridge: return "bridge";
    case MacvlanMode::private_: return "private";
    case MacvlanMode::vepa: return "vepa";
    case MacvlanMode::passthru: return "passthru";
  }
  return "?";
}

std::string_view to_string(LinkKind k) {
  switch (k) {
    case LinkKind::bridge: return "bridge";
    case LinkKind::veth: return "veth";
    case LinkKind::vxlan: return "vxlan";
    case LinkKind::macvlan: return "macvlan";
  }
  return "?";
}

std::string_view to_string(NatKind k) {
  switch (k) {
    case NatKind::masquerade: return "masquerade";
    case NatKind::snat: return "snat";
    case NatKind::dnat: return "dnat";
  }
  return "?";
}

std::string_view to_string(Proto p) { return p == Proto::tcp ? "tcp" : "udp"; }

std::optional<Family> Nat::family() const {
  if (to) return to->value.family;
  if (source) return source->value.address.family;
  return std::nullopt;
}

const Netns* Lab::find_netns(std::string_view wanted) const {
  for (const Netns& n : netns)
    if (n.name.value == wanted) return &n;
  return nullptr;
}

const Interface* Lab::find_interface(std::string_view ns, std::string_view wanted) const {
  for (const Interface& i : interfaces)
    if (i.netns.value == ns && i.name.value == wanted) return &i;
  return nullptr;
}

std::vector<const Located<IpAddress>*> Route::gateways() const {
  std::vector<const Located<IpAddress>*> out;
  if (via) out.push_back(&*via);
  for (const auto& g : multipath) out.push_back(&g);
  return out;
}

std::vector<Sysctl>* Lab::sysctls_of(std::string_view ns) {
  if (ns == kHostNetns) return &host_sysctls;
  for (Netns& n : netns)
    if (n.name.value == ns) return &n.sysctls;
  return nullptr;
}

int64_t Route::kernel_metric() const {
  int64_t m = metric ? metric->value : 0;
  return m == 0 && to.value.address.family == Family::v6 ? 1024 : m;
}

std::optional<IpAddress> Lab::first_address(std::string_view ns) const {
  for (const Interface& i : interfaces)
    if (i.netns.value == ns && !i.addresses.empty()) return i.addresses.front().value.address;
  return std::nullopt;
}

std::string_view to_string(ProbeProto p) {
  switch (p) {
    case ProbeProto::icmp: return "icmp";
    case ProbeProto::tcp: return "tcp";
    case ProbeProto::udp: return "udp";
  }
  return "?";
}

std::vector<std::string> Lab::namespace_names() const {
  std::vector<std::string> names{std::string(kHostNetns)};
  for (const Netns& n : netns) names.push_back(n.name.value);
  return names;
}

}  // namespace topo
