#include "planner/state.h"

#include <algorithm>
#include <tuple>
#include <type_traits>

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

const NftChain* NftTable::find_chain(std::string_view wanted) const {
  for (const NftChain& c : chains)
    if (c.name == wanted) return &c;
  return nullptr;
}

static_assert(std::variant_size_v<LinkKindState> == 5 &&
                  std::is_same_v<std::variant_alternative_t<static_cast<size_t>(LinkKind::macvlan) + 1, LinkKindState>,
                                 MacvlanState>,
              "LinkKindState follows LinkKind's order, after OtherLinkState");

std::string_view to_string(RuleKind k) {
  switch (k) {
    case RuleKind::foreign: return "foreign";
    case RuleKind::masquerade: return "masquerade";
    case RuleKind::snat: return "snat";
    case RuleKind::dnat: return "dnat";
    case RuleKind::accept: return "accept";
    case RuleKind::drop: return "drop";
    case RuleKind::reject: return "reject";
  }
  return "?";
}

std::optional<RuleKind> rule_kind_named(std::string_view name) {
  for (RuleKind k :
       {RuleKind::masquerade, RuleKind::snat, RuleKind::dnat, RuleKind::accept, RuleKind::drop, RuleKind::reject})
    if (to_string(k) == name) return k;
  return std::nullopt;
}

LinkKindState kind_named(std::string_view kernel_name) {
  if (kernel_name == "bridge") return BridgeState{};
  if (kernel_name == "veth") return VethState{};
  if (kernel_name == "vxlan") return VxlanState{};
  if (kernel_name == "macvlan") return MacvlanState{};
  return OtherLinkState{std::string(kernel_name)};
}

std::string_view LinkState::kind_name() const {
  if (const auto* o = std::get_if<OtherLinkState>(&kind)) return o->kernel_name;
  return to_string(static_cast<LinkKind>(kind.index() - 1));
}

bool LinkState::same_identity(const LinkState& other) const {
  if (link_local != other.link_local) return false;
  const VxlanState *a = vxlan(), *b = other.vxlan();
  if (!a || !b) return kind == other.kind;
  VxlanState mine = *a;
  mine.remotes = b->remotes;
  return mine == *b;
}

const std::vector<IpAddress>& LinkState::remotes() const {
  static const std::vector<IpAddress> none;
  return vxlan() ? vxlan()->remotes : none;
}

std::optional<std::pair<std::string, std::string>> LinkState::underlay(const std::string& netns) const {
  if (const VxlanState* v = vxlan(); v && !v->dev.empty()) return std::pair{v->socket_netns(netns), v->dev};
  if (const MacvlanState* m = macvlan(); m && !m->parent.empty()) return std::pair{m->parent_netns, m->parent};
  return std::nullopt;
}

std::vector<std::string> RouteState::devs() const {
  std::vector<std::string> out;
  if (!dev.empty()) out.push_back(dev);
  for (const NextHop& h : multipath)
    if (!h.dev.empty()) out.push_back(h.dev);
  return out;
}

bool RouteState::through(std::string_view link) const {
  if (link.empty()) return false;
  if (dev == link) return true;
  return std::any_of(multipath.begin(), multipath.end(), [&](const NextHop& h) { return h.dev == link; });
}

bool RouteState::paths_met_by(const RouteState& have) const {
  auto met = [](const NextHop& want, const NextHop& h) {
    return want.via == h.via && want.weight == h.weight && (want.dev.empty() || want.dev == h.dev);
  };
  if (have.via != via || (!dev.empty() && have.dev != dev) || have.multipath.size() != multipath.size()) return false;
  for (size_t i = 0; i < multipath.size(); ++i)
    if (!met(multipath[i], have.multipath[i])) return false;
  return true;
}

bool dropped_on_down(const IpPrefix& p) { return p.address.family == Family::v6; }

std::vector<IpPrefix> addresses_to_remove(const LinkState& before, const LinkState& after) {
  const bool goes_down = before.up && !after.up;
  // Below 1280, the least IPv6 takes, the kernel turns IPv6 off on the link and drops its
  // IPv6 addresses itself (addrconf, NETDEV_CHANGEMTU), as when it goes down.
  const bool below_ipv6 = after.mtu > 0 && after.mtu < 1280;
  std::vector<IpPrefix> out;
  for (const IpPrefix& p : before.addresses)
    if (std::find(after.addresses.begin(), after.addresses.end(), p) == after.addresses.end() &&
        !((goes_down || below_ipv6) && dropped_on_down(p)))
      out.push_back(p);
  return out;
}

bool same_subnet(const IpPrefix& a, const IpPrefix& b) {
  return a.address.family == Family::v4 && b.address.family == Family::v4 && a.length == b.length &&
         a.network() == b.network();
}

namespace {

bool has(const std::vector<IpPrefix>& in, const IpPrefix& p) { return std::find(in.begin(), in.end(), p) != in.end(); }
bool v4(const IpPrefix& p) { return p.address.family == Family::v4; }

// The addresses of `in` on `p`'s subnet, in `in`'s order.
std::vector<IpPrefix> subnet_of(const std::vector<IpPrefix>& in, const IpPrefix& p) {
  std::vector<IpPrefix> out;
  for (const IpPrefix& q : in)
    if (same_subnet(p, q)) out.push_back(q);
  return out;
}

// The kernel's order once `c` is done: the deleted leave (with promote_secondaries on, the
// next of a subnet takes a deleted primary's place), the added join at the end.
std::vector<IpPrefix> order_after(const std::vector<IpPrefix>& before, const AddressChange& c) {
  std::vector<IpPrefix> out;
  for (const IpPrefix& p : before)
    if (!has(c.first, p) && !has(c.then, p)) out.push_back(p);
  for (const IpPrefix& p : c.added) out.push_back(p);
  for (const IpPrefix& p : c.again) out.push_back(p);
  return out;
}

// Seats `after`'s subnet of `p` again: its first address stays or is added, all the
// others go and come back after it, in order.
void reseat(const std::vector<IpPrefix>& before, const std::vector<IpPrefix>& after, const IpPrefix& p,
            AddressChange& c) {
  std::vector<IpPrefix> want = subnet_of(after, p);
  std::erase_if(c.added, [&](const IpPrefix& q) { return same_subnet(p, q) && q != want.front(); });
  for (const IpPrefix& q : subnet_of(before, p))
    if (q != want.front() && !has(c.then, q)) c.then.push_back(q);
  c.again.insert(c.again.end(), want.begin() + 1, want.end());
}

}  // namespace

std::vector<IpPrefix> in_address_order(const std::vector<IpPrefix>& kernel) {
  std::vector<IpPrefix> out = kernel;
  std::sort(out.begin(), out.end());
  std::vector<bool> placed(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (placed[i] || !v4(out[i])) continue;
    std::vector<IpPrefix> order = subnet_of(kernel, out[i]);
    for (size_t j = i, k = 0; j < out.size(); ++j)
      if (same_subnet(out[i], out[j]) && !placed[j]) out[j] = order[k++], placed[j] = true;
  }
  return out;
}

AddressChange address_change(const LinkState& before, const LinkState& after) {
  AddressChange c;
  for (const IpPrefix& p : after.addresses)
    if (!has(before.addresses, p)) c.added.push_back(p);
  for (const IpPrefix& p : addresses_to_remove(before, after)) {
    bool clashes = !v4(p) && std::any_of(c.added.begin(), c.added.end(),
                                         [&](const IpPrefix& n) { return n.address == p.address; });
    (clashes ? c.first : c.then).push_back(p);
  }
  std::vector<IpPrefix> result = order_after(before.addresses, c);
  std::vector<IpPrefix> seated;  // one address of each subnet done
  for (const IpPrefix& p : after.addresses) {
    if (!v4(p) || std::any_of(seated.begin(), seated.end(), [&](const IpPrefix& q) { return same_subnet(p, q); }))
      continue;
    seated.push_back(p);
    if (subnet_of(result, p) != subnet_of(after.addresses, p)) reseat(before.addresses, after.addresses, p, c);
  }
  c.promote =
      std::any_of(c.then.begin(), c.then.end(), v4) && std::any_of(after.addresses.begin(), after.addresses.end(), v4);
  // With no IPv4 address left nothing is promoted: the kernel deletes a primary's
  // secondaries with it. Each subnet's primary comes first in `before`: backwards, the
  // secondaries go before it (evolve seed 101).
  if (!c.promote) std::reverse(c.then.begin(), c.then.end());
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
