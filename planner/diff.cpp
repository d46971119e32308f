#include "planner/diff.h"

#include "planner/render_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <tuple>

namespace topo {

std::string normalize_sysctl(std::string_view v) {
  // The kernel prints vectors with tabs ("0\t2147483647"); the lab may write spaces.
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::optional<int64_t> sysctl_number(std::string_view v) {
  std::string s = normalize_sysctl(v);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty() ? std::optional<int64_t>(n) : std::nullopt;
}

namespace {

// The kernel lists links in ifindex order, which depends on history; removals are listed
// by name so that the same state always gives the same diff.
std::vector<const LinkState*> by_name(const std::vector<LinkState>& links) {
  std::vector<const LinkState*> out;
  for (const LinkState& l : links) out.push_back(&l);
  std::sort(out.begin(), out.end(), [](const LinkState* a, const LinkState* b) { return a->name < b->name; });
  return out;
}

// The bytes a VXLAN's headers take from its underlay's mtu: 50 over IPv4, 70 over IPv6.
int64_t vxlan_headers(const VxlanState& v) {
  auto six = [](const std::optional<IpAddress>& a) { return a && a->family == Family::v6; };
  bool six_remotes = !v.remotes.empty() && v.remotes.front().family == Family::v6;
  return six(v.local) || six(v.remote) || six(v.group) || six_remotes ? 70 : 50;
}

}  // namespace

std::map<std::pair<std::string, std::string>, int64_t> default_mtus(const State& expected, const State* observed) {
  std::map<std::pair<std::string, std::string>, int64_t> known;
  for (const auto& [ns, want] : expected.namespaces)
    for (const LinkState& l : want.links)
      if (l.mtu)
        known[{ns, l.name}] = l.mtu;
      else if (l.is(LinkKind::veth))
        known[{ns, l.name}] = 1500;
  auto lookup = [&](const std::string& ns, const std::string& name) -> int64_t {
    if (auto it = known.find({ns, name}); it != known.end()) return it->second;
    // A link the file does not have (the machine's own, a macvlan's parent say) keeps the
    // mtu it has now.
    const NamespaceState* want = expected.find(ns);
    const NamespaceState* have = observed ? observed->find(ns) : nullptr;
    const LinkState* l = have && !(want && want->find_link(name)) ? have->find_link(name) : nullptr;
    return l ? l->mtu : 0;
  };
  for (bool grew = true; grew;) {  // each round settles what the last one made known
    grew = false;
    for (const auto& [ns, want] : expected.namespaces)
      for (const LinkState& l : want.links) {
        if (known.count({ns, l.name})) continue;
        int64_t mtu = 0;
        if (l.is(LinkKind::bridge)) {
          mtu = 1500;
          bool all = true, any = false;
          int64_t least = INT64_MAX;
          for (const LinkState& p : want.links)
            if (p.master == l.name) {
              int64_t m = lookup(ns, p.name);
              any = true;
              all = all && m;
              least = std::min(least, m);
            }
          if (!all) continue;
          if (any) mtu = least;
        } else if (const VxlanState* v = l.vxlan()) {
          if (v->dev.empty())
            mtu = 1500;  // measured: the kernel does not subtract then
          else if (int64_t under = lookup(v->socket_netns(ns), v->dev))
            mtu = under - vxlan_headers(*v);
        } else if (const MacvlanState* m = l.macvlan()) {
          mtu = lookup(m->parent_netns, m->parent);
        }
        if (mtu) known[{ns, l.name}] = mtu, grew = true;
      }
  }
  return known;
}

namespace {

class Differ {
 public:
  Differ(const State& expected, const State& observed, std::string_view lab, const std::set<RouteKey>& lab_routes)
      : expected_(expected),
        observed_(observed),
        mark_(ownership_mark(lab)),
        lab_routes_(lab_routes),
        default_mtus_(default_mtus(expected, &observed)) {}

  Diff run() {
    for (const auto& [name, want] : expected_.namespaces) namespace_changes(name, want);
    for (const auto& [name, have] : observed_.namespaces)
      if (have.exists && have.mark == mark_ && !expected_.find(name))
        add(Action::remove, name, NamespaceDelta{{have, std::nullopt}});
    cascade();
    return std::move(out_);
  }

 private:
  Change& add(Action a, const std::string& netns, Subject s) {
    return out_.changes.emplace_back(Change{a, netns, std::move(s), {}});
  }
  void conflict(const std::string& netns, std::string message) {
    out_.conflicts.push_back({netns, std::move(message)});
  }

  static inline const NamespaceState kAbsent;

  void namespace_changes(const std::string& name, const NamespaceState& want) {
    const NamespaceState* have = observed_.find(name);
    if (!have || !have->exists) {
      if (want.adopted) {
        conflict(name, fmt::format("namespace '{}' is to be adopted but does not exist", name));
        return;
      }
      NamespaceState created;
      created.exists = true;
      created.mark = want.mark;
      add(Action::create, name, NamespaceDelta{{std::nullopt, created}});
      have = &kAbsent;
    } else if (!want.adopted && have->mark != mark_) {
      conflict(name, have->mark.empty()
                         ? fmt::format("namespace '{}' exists and is not the lab's (no topo mark "
                                       "on its lo)",
                                       name)
                         : fmt::format("namespace '{}' belongs to lab '{}'", name, lab_of_mark(have->mark)));
      return;
    }
    sysctl_changes(name, want, *have);
    link_changes(name, want, *have);
    route_changes(name, want, *have);
    file_changes(name, want, *have);
    nat_changes(name, want, *have);
  }

  void sysctl_changes(const std::string& ns, const NamespaceState& want, const NamespaceState& have) {
    for (const auto& [key, value] : want.sysctls) {
      auto it = have.sysctls.find(key);
      std::optional<std::string> before;
      if (it != have.sysctls.end()) before = it->second;
      if (before && normalize_sysctl(*before) == normalize_sysctl(value)) continue;
      if (want.at_least.count(key) && enough(ns, key, before, value)) continue;
      // An original put back on a link the lab no longer has goes with the link, or went.
      if (std::string dev = sysctl_interface(key); !dev.empty() && want.put_backs.count(key) && !link_in(want, dev)) {
        bool going = goes(want, have, dev);
        if (going && before) out_.kept.push_back({Action::modify, ns, SysctlDelta{{before, before}, key, {}}, ""});
        if (going || !link_in(have, dev)) continue;
      }
      SysctlDelta d{{before, value}, key, {}};
      if (&have == &kAbsent)
        d.made_with = "namespace";
      else if (std::string dev = sysctl_interface(key); !before && !dev.empty() && !link_in(have, dev))
        d.made_with = "interface";
      add(Action::modify, ns, d);
    }
  }

  // A machine limit the kernel has at `value` or more needs nothing; one it does not have
  // at all (a namespace other than the machine's first) is noted, and needs nothing either.
  bool enough(const std::string& ns, const std::string& key, const std::optional<std::string>& before,
              const std::string& value) {
    if (!before) {
      out_.notes.push_back({ns, fmt::format("{} is not in this network namespace (only in the machine's first): "
                                            "the lab wants it at least {}; raise it there",
                                            key, value)});
      return true;
    }
    auto have = sysctl_number(*before), want = sysctl_number(value);
    return have && want && *have >= *want;
  }

  bool owned(const LinkState& l) const { return l.alias == mark_; }

  // A link of the lab's that the lab no longer has: the diff deletes it.
  bool goes(const NamespaceState& want, const NamespaceState& have, const std::string& name) const {
    const LinkState* h = link_in(have, name);
    return h && owned(*h) && !link_in(want, name);
  }

  // NamespaceState::find_link, through an index made on first use: host alone may hold a
  // thousand links, and every link and route of the lab looks one up.
  const LinkState* link_in(const NamespaceState& n, std::string_view name) const {
    auto [it, fresh] = link_index_.try_emplace(&n);
    if (fresh)
      for (const LinkState& l : n.links) it->second.emplace(l.name, &l);
    auto found = it->second.find(name);
    return found == it->second.end() ? nullptr : found->second;
  }

  void link_changes(const std::string& ns, const NamespaceState& want, const NamespaceState& have) {
    for (const LinkState& w : want.links) {
      const LinkState* h = link_in(have, w.name);
      if (!h) {
        add(Action::create, ns, LinkDelta{{std::nullopt, born(ns, w)}});
      } else if (!owned(*h)) {
        std::string other = lab_of_mark(h->alias);
        conflict(ns, other.empty()
                         ? fmt::format("interface '{}' exists and is not the lab's ({}{})", w.name,
                                       h->kind_name().empty() ? "a device" : "a " + std::string(h->kind_name()),
                                       h->alias.empty() ? ", no topo mark" : fmt::format(", alias '{}'", h->alias))
                         : fmt::format("interface '{}' belongs to lab '{}'", w.name, other));
      } else if (!w.same_identity(*h)) {
        add(Action::replace, ns, LinkDelta{{*h, born(ns, w)}});
      } else if (foreign_qdisc(ns, w, *h)) {
        continue;
      } else if (differs(ns, w, *h)) {
        add(Action::modify, ns, LinkDelta{{*h, merged(ns, w, *h)}});
      }
    }
    for (const LinkState* h : by_name(have.links))
      if (owned(*h) && !link_in(want, h->name)) add(Action::remove, ns, LinkDelta{{*h, std::nullopt}});
    address_conflicts(ns, want, have);
    missing_devices(ns, want);
  }

  // A root qdisc on one of the lab's links that topo does not make (a `tc qdisc add ... fq`
  // by hand), where the lab would change it: topo could not make it again on a rollback.
  bool foreign_qdisc(const std::string& ns, const LinkState& w, const LinkState& h) {
    const auto* other = h.qdisc ? std::get_if<OtherQdisc>(&*h.qdisc) : nullptr;
    if (!other || w.qdisc == h.qdisc) return false;
    conflict(ns, fmt::format("interface '{}' has a root qdisc {} that topo does not make, and could not put back if "
                             "the apply failed: remove it (tc qdisc del dev {} root) for the lab's {}",
                             w.name, other->kind, w.name, w.qdisc ? "shape" : "default"));
    return true;
  }

  // A parent, underlay or route device in host or an adopted namespace may be the machine's
  // own interface (the validator cannot know): it must exist now, or be made by the lab.
  bool device_exists(const std::string& ns, const std::string& name) const {
    if (name.empty() || name == "lo") return true;
    const NamespaceState* want = expected_.find(ns);
    const NamespaceState* have = observed_.find(ns);
    return (want && link_in(*want, name)) || (have && have->exists && link_in(*have, name));
  }

  // The machine's own interface of that name, when the lab does not make one.
  const LinkState* machines(const std::string& ns, const std::string& name) const {
    const NamespaceState* want = expected_.find(ns);
    const NamespaceState* have = observed_.find(ns);
    if (name.empty() || (want && link_in(*want, name)) || !have || !have->exists) return nullptr;
    return link_in(*have, name);
  }

  void missing_devices(const std::string& ns, const NamespaceState& want) {
    auto missing = [&](const std::string& in, const std::string& dev, const std::string& role) {
      if (!device_exists(in, dev))
        conflict(ns, fmt::format("interface '{}' ({}) does not exist in namespace '{}'", dev, role, in));
    };
    for (const LinkState& w : want.links) {
      if (const MacvlanState* m = w.macvlan())
        missing(m->parent_netns, m->parent, "parent of macvlan '" + w.name + "'");
      if (const VxlanState* v = w.vxlan()) missing(v->socket_netns(ns), v->dev, "underlay of vxlan '" + w.name + "'");
      machines_lower(ns, w);
    }
    for (const RouteState& r : want.routes)
      for (const std::string& dev : r.devs()) missing(ns, dev, "device of the route to " + fmt::format("{}", r.to));
  }

  // What the validator checks of the lab's own lower links, checked here of the machine's,
  // whose kind and mtu only the kernel knows: the kernel would put a macvlan on a macvlan's
  // parent instead, refuse a macvlan an mtu above its parent's, and cut a VXLAN's mtu above
  // its underlay's less the headers down (and refuse it as a change).
  void machines_lower(const std::string& ns, const LinkState& w) {
    const MacvlanState* m = w.macvlan();
    const LinkState* p = m ? machines(m->parent_netns, m->parent) : nullptr;
    if (p && p->is(LinkKind::macvlan))
      conflict(ns, fmt::format("parent '{}' of macvlan '{}' is a macvlan in namespace '{}'; the kernel would "
                               "put '{}' on that one's parent instead (name that as the parent)",
                               m->parent, w.name, m->parent_netns, w.name));
    int64_t parent = m ? lower_mtu(m->parent_netns, m->parent) : 0;
    if (parent && w.mtu > parent)
      conflict(ns, fmt::format("mtu {} of macvlan '{}' is above {}, its parent '{}''s; the kernel refuses a "
                               "macvlan more than its parent's",
                               w.mtu, w.name, parent, m->parent));
    low_default_mtu(ns, w);
    const VxlanState* v = w.vxlan();
    if (!v || !w.mtu) return;
    int64_t under = lower_mtu(v->socket_netns(ns), v->dev);
    int64_t headers = vxlan_headers(*v);
    if (!under || w.mtu <= under - headers) return;
    conflict(ns, fmt::format("mtu {} of vxlan '{}' is above {}, what its underlay '{}' (mtu {}) leaves after {} bytes "
                             "of VXLAN headers; the kernel would cut it down",
                             w.mtu, w.name, under - headers, v->dev, under, headers));
  }

  // The mtu a lower link will have: the machine's link keeps its own; the lab's has the
  // file's, or the default it takes from a machine's link further down (a macvlan over the
  // machine's eth0, evolve seed 94). A chain the file makes whole the validator has checked.
  int64_t lower_mtu(const std::string& ns, const std::string& name) const {
    if (const LinkState* l = machines(ns, name)) return l->mtu;
    const NamespaceState* want = expected_.find(ns);
    return want && link_in(*want, name) ? mtu_wanted(ns, *link_in(*want, name)) : 0;
  }

  // A link left without mtu over a machine's link below 1280 (less a VXLAN's headers) would
  // take the kernel's refusal of its IPv6 addresses midway through the apply; the validator
  // says the same where the lab makes the whole chain (evolve seed 68).
  void low_default_mtu(const std::string& ns, const LinkState& w) {
    int64_t mtu = w.mtu ? 0 : mtu_wanted(ns, w);
    if (!mtu || mtu >= 1280) return;
    if (!w.link_local)
      conflict(ns, fmt::format("'{}' has link_local = false but its mtu would be {}, from the machine's link it runs "
                               "over, below 1280: the kernel has no IPv6 on it then; leave link_local out or set its "
                               "mtu",
                               w.name, mtu));
    for (const IpPrefix& a : w.addresses)
      if (a.address.family == Family::v6)
        return conflict(ns, fmt::format("'{}' has IPv6 address {} but its mtu would be {}, from the machine's "
                                        "link it runs over, below 1280, the least IPv6 needs; set its mtu",
                                        w.name, a, mtu));
  }

  // What the lab leaves unset: an mtu is the kernel's default for the link (default_mtus),
  // where topo can tell it; a mac, and an mtu it cannot tell, keep the kernel's value.
  LinkState merged(const std::string& ns, const LinkState& want, const LinkState& have) const {
    LinkState m = want;
    m.mtu = mtu_wanted(ns, want);
    if (m.mtu == 0) m.mtu = have.mtu;
    if (!m.mac) m.mac = have.mac;
    return m;
  }

  // A link left without an mtu is made with the default it ends with, rather than the one
  // the kernel gives it at that moment: a port added to an underlay bridge later in the
  // plan lowers the bridge, and the kernel lowers a macvlan on it, but never a VXLAN over
  // it (evolve seed 46). A bridge made with an mtu keeps it whatever its ports (the kernel
  // stops following them once its mtu is set): topo sets the default itself as ports come
  // and go, and a bridge that the file later gives an mtu equal to its current one does not
  // move away from it when a port joins (evolve seed 45).
  LinkState born(const std::string& ns, const LinkState& want) const {
    LinkState b = want;
    if (!b.mtu && !b.is(LinkKind::veth)) b.mtu = mtu_wanted(ns, want);
    return b;
  }

  bool differs(const std::string& ns, const LinkState& want, const LinkState& have) const {
    int64_t mtu = mtu_wanted(ns, want);
    return (mtu && mtu != have.mtu) || (want.mac && want.mac != have.mac) || want.up != have.up ||
           want.master != have.master || want.group != have.group || want.addresses != have.addresses ||
           want.qdisc != have.qdisc || want.remotes() != have.remotes();
  }

  int64_t mtu_wanted(const std::string& ns, const LinkState& want) const {
    if (want.mtu) return want.mtu;
    auto d = default_mtus_.find({ns, want.name});
    return d == default_mtus_.end() ? 0 : d->second;
  }

  // An address the lab wants that sits on a link it does not own: the kernel would take it
  // twice, and traffic would go astray. A link that is itself in the lab's way (same
  // name) has been reported already.
  void address_conflicts(const std::string& ns, const NamespaceState& want, const NamespaceState& have) {
    for (const LinkState& w : want.links)
      for (const IpPrefix& a : w.addresses)
        for (const LinkState& h : have.links)
          if (!owned(h) && !link_in(want, h.name))
            for (const IpPrefix& b : h.addresses) {
              if (a.address == b.address)
                conflict(ns, fmt::format("address {} is already on interface '{}', which is not "
                                         "the lab's",
                                         a.address, h.name));
              else if (a.address == b.broadcast())
                broadcast_conflict(ns, a, w.name, b, h.name);
              else if (b.address == a.broadcast())
                broadcast_conflict(ns, b, h.name, a, w.name);
            }
  }

  // What the validator says of two of the lab's links (evolve seed 71), said of a lab's
  // link and a machine's: the kernel's routes for the address would depend on the order.
  void broadcast_conflict(const std::string& ns, const IpPrefix& address, const std::string& address_on,
                          const IpPrefix& subnet, const std::string& subnet_on) {
    conflict(ns, fmt::format("address {} of '{}' is the broadcast address of subnet {} of '{}' (one of them not "
                             "the lab's); the kernel would give '{}' no route to {} when it comes second",
                             address.address, address_on, IpPrefix{subnet.network(), subnet.length}, subnet_on,
                             address_on, IpPrefix{address.network(), address.length}));
  }

  // A route belongs to the lab when it carries topo's protocol and lives in one of the
  // lab's own namespaces, goes through one of its links, or is one the executor noted as
  // the lab's; other topo routes through the machine's own devices could be another lab's,
  // so they are left.
  bool owned_route(const std::string& ns, const RouteState& r, const NamespaceState& have) const {
    if (r.protocol != kRouteProtocol) return false;
    if (have.mark == mark_ || lab_routes_.count({ns, r.to, r.metric})) return true;
    for (const std::string& name : r.devs())
      if (const LinkState* dev = link_in(have, name); dev && owned(*dev)) return true;
    return false;
  }

  // A computed route in a namespace the lab does not own (host, an adopted one) to a
  // destination the machine routes already, at any metric: it would take the machine's
  // traffic over. The file can write such a route itself if that is what it means.
  bool takes_over(const std::string& ns, const NamespaceState& want, const RouteState& w, const NamespaceState& have) {
    if (w.origin.text != "computed" || have.mark == mark_ || want.mark == mark_) return false;
    // The kernel's routes to the subnets of the lab's own links are the lab's doing, not the
    // machine's (evolve seeds 204, 206: an address moving between an adopted namespace's links).
    auto machines = [&](const RouteState& r) {
      const LinkState* dev = link_in(have, r.dev);
      return r.to == w.to && r.protocol != kRouteProtocol && !(dev && owned(*dev));
    };
    auto h = std::find_if(have.routes.begin(), have.routes.end(), machines);
    if (h == have.routes.end()) return false;
    conflict(ns, fmt::format("the machine routes {} already ({}); routing = \"static\" would add a route "
                             "there: write the route in the file if the lab's is meant to win",
                             w.to, describe(*h)));
    return true;
  }

  // The kernel's route to a subnet of one of the lab's links that the plan takes away from
  // it (the link goes, or keeps no address there): the kernel deletes it with the address,
  // before the routes are made (evolve seed 201: an address moved from a namespace, whose
  // routes then reach its subnet through a gateway).
  bool goes_with_its_address(const RouteState& h, const NamespaceState& want, const NamespaceState& have) const {
    if (h.protocol != kKernelRouteProtocol || !h.multipath.empty()) return false;
    const LinkState* now = link_in(have, h.dev);
    if (!now || !owned(*now)) return false;
    const LinkState* then = link_in(want, h.dev);
    if (!then) return true;
    return std::none_of(then->addresses.begin(), then->addresses.end(), [&](const IpPrefix& p) {
      return IpPrefix{p.network(), p.length} == h.to;
    });
  }

  void route_changes(const std::string& ns, const NamespaceState& want, const NamespaceState& have) {
    for (const RouteState& w : want.routes) {
      auto h = std::find_if(have.routes.begin(), have.routes.end(), [&](const RouteState& r) { return r.same_key(w); });
      if (h == have.routes.end() && takes_over(ns, want, w, have)) {
        continue;
      } else if (h == have.routes.end()) {
        add(Action::create, ns, RouteDelta{{std::nullopt, w}});
      } else if (h->protocol != kRouteProtocol && goes_with_its_address(*h, want, have)) {
        add(Action::create, ns, RouteDelta{{std::nullopt, w}});  // made once the kernel's has gone
      } else if (h->protocol != kRouteProtocol) {
        conflict(ns, fmt::format("a route to {} with metric {} exists and is not the lab's "
                                 "(protocol {})",
                                 h->to, h->metric, h->protocol));
      } else if (!w.paths_met_by(*h)) {
        add(Action::modify, ns, RouteDelta{{*h, w}});
      }
    }
    std::vector<const RouteState*> sorted;
    for (const RouteState& h : have.routes) sorted.push_back(&h);
    std::sort(sorted.begin(), sorted.end(), [](const RouteState* a, const RouteState* b) {
      return std::tie(a->to, a->metric) < std::tie(b->to, b->metric);
    });
    for (const RouteState* h : sorted) {
      bool wanted =
          std::any_of(want.routes.begin(), want.routes.end(), [&](const RouteState& r) { return r.same_key(*h); });
      if (!wanted && owned_route(ns, *h, have)) add(Action::remove, ns, RouteDelta{{*h, std::nullopt}});
    }
  }

  void file_changes(const std::string& ns, const NamespaceState& want, const NamespaceState& have) {
    std::set<std::string> names;
    for (const auto& [f, text] : want.files) names.insert(f);
    // A lab file that the lab no longer has is removed: in the lab's namespaces any, in an
    // adopted one only a file that says it is the lab's (planner/expected.h writes that line
    // first): another may be someone else's.
    std::string header = fmt::format("# written by topo for lab {}\n", lab_of_mark(mark_));
    for (const auto& [f, text] : have.files)
      if (!want.adopted || text.rfind(header, 0) == 0) names.insert(f);
    for (const std::string& f : names) {
      auto w = want.files.find(f);
      auto h = have.files.find(f);
      std::optional<std::string> before, after;
      if (h != have.files.end()) before = h->second;
      if (w != want.files.end()) after = w->second;
      if (before == after) continue;
      Action a = !before ? Action::create : !after ? Action::remove : Action::modify;
      add(a, ns, FileDelta{{before, after}, f});
    }
  }

  // The lab's NAT table is changed whole (one nftables batch), so one change per namespace
  // carries the table's content before and after. A table of the lab's name that lacks its
  // mark (comment) is someone else's: a conflict when the lab wants the name, else ignored.
  void nat_changes(const std::string& ns, const NamespaceState& want, const NamespaceState& have) {
    const std::optional<NftTable>& w = want.nat;
    const std::optional<NftTable>& h = have.nat;
    if (h && h->mark != mark_) {
      if (!w) return;
      std::string other = lab_of_mark(h->mark);
      conflict(ns, other.empty() ? fmt::format("nftables table inet {} exists and is not the lab's ({})", h->name,
                                               h->mark.empty() ? "no comment" : fmt::format("comment '{}'", h->mark))
                                 : fmt::format("nftables table inet {} belongs to lab '{}'", h->name, other));
      return;
    }
    if (w == h) return;
    add(!h ? Action::create : !w ? Action::remove : Action::modify, ns, TableDelta{{h, w}});
  }

  // Deleting a link takes more with it: the kernel deletes a veth's peer, a macvlan with its
  // parent and a VXLAN with its underlay device, and releases a bridge's ports. Links the
  // diff keeps that depend on a link it deletes (or replaces) must be made again, or
  // re-enslaved. Repeats until nothing more follows (a chain of dependents).
  void cascade() {
    for (bool grew = true; grew;) {
      grew = false;
      Dying dying = links_dying();
      for (const auto& [ns, want] : expected_.namespaces)
        for (const LinkState& w : want.links) grew |= follow(ns, w, dying);
    }
    Dying dying = links_dying();
    routes_lost(dying);
    sysctls_lost(dying);
    others_lost(dying);
  }

  using LinkKey = std::pair<std::string, std::string>;  // namespace, interface
  struct Dying {
    std::set<LinkKey> deleted;             // links the diff deletes (remove or replace)
    std::map<LinkKey, std::string> peers;  // veth ends that die with them -> their peer's name
  };

  Dying links_dying() const {
    Dying d;
    for (const Change& c : out_.changes) {
      if (auto* n = std::get_if<NamespaceDelta>(&c.subject); n && c.action == Action::remove)
        for (const LinkState& l : n->before->links) note_dying(d, c.netns, l);
      auto* l = std::get_if<LinkDelta>(&c.subject);
      if (!l || !l->before || c.action == Action::modify) continue;
      note_dying(d, c.netns, *l->before);
    }
    return d;
  }

  // A macvlan or VXLAN that is not the lab's, over a link the diff deletes, would be
  // deleted by the kernel with it: the lab would touch what it does not own.
  void others_lost(const Dying& dying) {
    for (const auto& [ns, have] : observed_.namespaces) {
      if (!have.exists) continue;
      for (const LinkState& h : have.links) {
        if (owned(h) || dying.deleted.count({ns, h.name})) continue;
        auto under = h.underlay(ns);
        if (under && dying.deleted.count(*under))
          conflict(ns, fmt::format("interface '{}' ({}, not the lab's) is over {}/{}, which the lab deletes: the "
                                   "kernel would delete it too",
                                   h.name, h.kind_name(), under->first, under->second));
      }
    }
  }

  static void note_dying(Dying& d, const std::string& ns, const LinkState& l) {
    d.deleted.emplace(ns, l.name);
    if (const VethState* v = l.veth(); v && !v->peer_name.empty()) d.peers[{v->peer_netns, v->peer_name}] = l.name;
  }

  // The kernel deletes the routes through a link it deletes, and every IPv4 route through a
  // link left without an IPv4 address. The routes the lab keeps through such a link are
  // removed before it and made again after (a replace), so that the plan makes them again
  // and its inverse finds them where it left them.
  void routes_lost(const Dying& dying) {
    std::map<LinkKey, std::string> why;  // link -> why the routes through it go
    for (const LinkKey& k : dying.deleted) {
      const NamespaceState* want = expected_.find(k.first);
      bool again = want && link_in(*want, k.second);
      why[k] = fmt::format("its device {} {}", k.second, again ? "is made again" : "goes");
    }
    for (const Change& c : out_.changes) {
      const auto* l = std::get_if<LinkDelta>(&c.subject);
      if (c.action == Action::modify && l && loses_ipv4(*l->before, *l->after))
        why.emplace(LinkKey{c.netns, l->after->name},
                    fmt::format("its device {} loses its IPv4 addresses", l->after->name));
    }
    if (why.empty()) return;
    for (const auto& [ns, want] : expected_.namespaces) {
      const NamespaceState* have = observed_.find(ns);
      if (!have || !have->exists) continue;
      for (const RouteState& w : want.routes) {
        auto h =
            std::find_if(have->routes.begin(), have->routes.end(), [&](const RouteState& r) { return r.same_key(w); });
        if (h == have->routes.end() || h->protocol != kRouteProtocol) continue;
        // IPv4 routes go with their device's addresses, every route with its device.
        bool v4 = h->to.address.family == Family::v4;
        auto reason = why.end();
        for (const std::string& dev : h->devs())
          if (auto r = why.find({ns, dev}); r != why.end() && (v4 || dying.deleted.count({ns, dev}))) reason = r;
        if (reason == why.end()) continue;
        Change* mine = find_route_change(ns, w);
        if (!mine) mine = &add(Action::replace, ns, RouteDelta{{*h, w}});
        mine->action = Action::replace;
        mine->why = reason->second;
      }
    }
  }

  static bool loses_ipv4(const LinkState& before, const LinkState& after) {
    auto v4 = [](const IpPrefix& p) { return p.address.family == Family::v4; };
    return std::any_of(before.addresses.begin(), before.addresses.end(), v4) &&
           std::none_of(after.addresses.begin(), after.addresses.end(), v4);
  }

  Change* find_route_change(const std::string& ns, const RouteState& r) {
    for (Change& c : out_.changes) {
      auto* d = std::get_if<RouteDelta>(&c.subject);
      if (c.netns == ns && d && (d->after ? *d->after : *d->before).same_key(r)) return &c;
    }
    return nullptr;
  }

  // A link made again has the kernel's defaults for its sysctls: those the file sets on it
  // are set again, even where they have the file's value now.
  void sysctls_lost(const Dying& dying) {
    for (const auto& [ns, want] : expected_.namespaces) {
      const NamespaceState* have = observed_.find(ns);
      if (!have || !have->exists) continue;
      for (const auto& [key, value] : want.sysctls) {
        std::string dev = sysctl_interface(key);
        if (dev.empty() || !dying.deleted.count({ns, dev}) || !link_in(want, dev)) continue;  // gone for good: kept
        // Named copies: C++17 lambdas cannot capture structured bindings (clang refuses).
        const std::string& in = ns;
        const std::string& sysctl = key;
        bool planned = std::any_of(out_.changes.begin(), out_.changes.end(), [&](const Change& c) {
          const auto* y = std::get_if<SysctlDelta>(&c.subject);
          return y && c.netns == in && y->key == sysctl;
        });
        if (planned) continue;
        auto h = have->sysctls.find(key);
        std::optional<std::string> before;
        if (h != have->sysctls.end()) before = h->second;
        add(Action::modify, ns, SysctlDelta{{before, value}, key}).why =
            fmt::format("its interface {} is made again", dev);
      }
    }
  }

  // One kept link's reaction to the dying links; true when the diff changed.
  bool follow(const std::string& ns, const LinkState& w, const Dying& dying) {
    if (dying.deleted.count({ns, w.name})) return false;  // already made again
    const NamespaceState* have_ns = observed_.find(ns);
    const LinkState* h = have_ns ? link_in(*have_ns, w.name) : nullptr;
    if (!h || !owned(*h)) return false;  // created anew, or a conflict
    std::string why;
    if (auto p = dying.peers.find({ns, w.name}); p != dying.peers.end())
      why = fmt::format("its peer {} is made again", p->second);
    else if (auto under = w.underlay(ns); under && dying.deleted.count(*under))
      why = fmt::format("its {} {} is made again", w.is(LinkKind::macvlan) ? "parent" : "underlay", under->second);
    Change* mine = find_link_change(ns, w.name);
    if (!why.empty()) {
      if (!mine) mine = &add(Action::replace, ns, LinkDelta{{*h, w}});
      mine->action = Action::replace;
      std::get<LinkDelta>(mine->subject).after = w;
      mine->why = why;
      return true;
    }
    if (!h->master.empty() && dying.deleted.count({ns, h->master})) {
      // The kernel releases the port when its bridge goes: the plan releases it first (so
      // that the inverse puts it back on the bridge made again), and attaches it again when
      // the file keeps it on a bridge of that name.
      if (mine) return false;
      add(Action::modify, ns, LinkDelta{{*h, merged(ns, w, *h)}}).why =
          fmt::format("its bridge {} is made again", h->master);
      return true;
    }
    return false;
  }

  Change* find_link_change(const std::string& ns, const std::string& name) {
    for (Change& c : out_.changes) {
      auto* l = std::get_if<LinkDelta>(&c.subject);
      if (c.netns == ns && l && (l->after ? l->after->name : l->before->name) == name) return &c;
    }
    return nullptr;
  }

  const State& expected_;
  const State& observed_;
  std::string mark_;
  const std::set<RouteKey>& lab_routes_;
  std::map<std::pair<std::string, std::string>, int64_t> default_mtus_;
  mutable std::map<const NamespaceState*, std::map<std::string_view, const LinkState*>> link_index_;
  Diff out_;
};

}  // namespace

Diff diff(const State& expected, const State& observed, std::string_view lab, const std::set<RouteKey>& lab_routes) {
  return Differ(expected, observed, lab, lab_routes).run();
}

}  // namespace topo
