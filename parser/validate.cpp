#include "parser/validate.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "parser/names.h"
#include "parser/suggest.h"

namespace topo {
namespace {

constexpr size_t kMaxBridgePorts = 1023;  // BR_MAX_PORTS - 1: the kernel says EXFULL past it
constexpr int64_t kMinMtuIpv6 = 1280;

// Caret widths: a quoted string value, and an integer as written in decimal.
int width(const std::string& s) { return static_cast<int>(s.size()) + 2; }
int digits(int64_t n) { return static_cast<int>(std::to_string(n).size()); }

std::vector<std::string_view> views(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class Validator {
 public:
  // Indexes first: a lab of 1000 namespaces looked up by scanning is a million compares.
  Validator(const Lab& lab, Diagnostics& d) : lab_(lab), d_(d) {
    for (const Netns& n : lab.netns) netns_.emplace(n.name.value, &n);
    for (const Interface& i : lab.interfaces) {
      interfaces_.emplace(std::pair<std::string_view, std::string_view>(i.netns.value, i.name.value), &i);
      interfaces_in_[i.netns.value].push_back(&i);
    }
    for (const Route& r : lab.routes) routes_in_[r.netns.value].push_back(&r);
  }

  void run() {
    check_namespaces();
    for (const Interface& i : lab_.interfaces) check_netns_ref(i.netns);
    for (const Route& r : lab_.routes) check_netns_ref(r.netns);
    for (const Nat& n : lab_.nats) check_netns_ref(n.netns);
    for (const Filter& f : lab_.filters) check_netns_ref(f.netns);
    check_interfaces();
    check_addresses();
    check_broadcast_addresses();
    check_masters();
    for (const Interface& i : lab_.interfaces) {
      if (auto* v = std::get_if<Vxlan>(&i.spec)) check_vxlan(i, *v);
      if (auto* m = std::get_if<Macvlan>(&i.spec)) check_macvlan(i, *m);
    }
    check_lower_loops();
    check_vxlan_ids();
    check_isolation();
    check_routes();
    check_nats();
    for (const Expect& e : lab_.expects) check_expect(e);
  }

 private:
  const Netns* find_netns(std::string_view name) const {
    auto it = netns_.find(name);
    return it == netns_.end() ? nullptr : it->second;
  }
  const Interface* find_interface(std::string_view ns, std::string_view name) const {
    auto it = interfaces_.find({ns, name});
    return it == interfaces_.end() ? nullptr : it->second;
  }
  template <class T>
  static const std::vector<const T*>& in(const std::map<std::string_view, std::vector<const T*>>& m,
                                         std::string_view ns) {
    static const std::vector<const T*> none;
    auto it = m.find(ns);
    return it == m.end() ? none : it->second;
  }

  bool ns_exists(const std::string& ns) const { return ns == kHostNetns || find_netns(ns) != nullptr; }

  // In a namespace the lab creates, every interface but lo is the lab's, so a reference to
  // anything else is a mistake; in the host and in adopted namespaces it may be the
  // machine's or the container's own, which `plan` checks against the kernel.
  bool lab_owns(const std::string& ns) const {
    const Netns* n = find_netns(ns);
    return n && !n->adopted();
  }

  std::vector<std::string> interfaces_in(const std::string& ns) const {
    std::vector<std::string> names{"lo"};
    for (const Interface* i : in(interfaces_in_, ns)) names.push_back(i->name.value);
    return names;
  }

  void check_netns_ref(const Located<std::string>& ns) {
    if (ns_exists(ns.value)) return;
    d_.error(ns.pos,
             fmt::format("netns {} is not defined{}", quoted(ns.value),
                         did_you_mean(ns.value, views(lab_.namespace_names()))),
             width(ns.value));
  }

  // A reference to an interface of namespace `ns` that the lab must define there.
  void check_interface_ref(const Located<std::string>& ref, const std::string& ns, std::string_view role) {
    if (!ns_exists(ns) || !lab_owns(ns)) return;
    if (ref.value == "lo" || find_interface(ns, ref.value)) return;
    d_.error(ref.pos,
             fmt::format("{} {} is not an interface of namespace '{}'{}", role, quoted(ref.value), ns,
                         did_you_mean(ref.value, views(interfaces_in(ns)))),
             width(ref.value));
  }

  void check_namespaces() {
    std::map<std::string, const Netns*> by_name;
    std::map<std::string, const Netns*> by_target;  // adopted: pid or path
    for (const Netns& ns : lab_.netns) {
      if (ns.name.value.empty()) continue;
      auto [it, fresh] = by_name.emplace(ns.name.value, &ns);
      if (!fresh) {
        d_.error(ns.name.pos, fmt::format("netns '{}' is defined twice", ns.name.value), width(ns.name.value));
        d_.note(it->second->name.pos, "first defined here");
      }
      std::string target = ns.pid    ? fmt::format("pid {}", ns.pid->value)
                           : ns.path ? fmt::format("path {}", ns.path->value)
                                     : "";
      if (target.empty()) continue;
      auto [jt, new_target] = by_target.emplace(target, &ns);
      if (!new_target) {
        SourcePos pos = ns.pid ? ns.pid->pos : ns.path->pos;
        d_.error(pos, fmt::format("netns '{}' adopts {}, which netns '{}' adopts already", ns.name.value, target,
                                  jt->second->name.value));
      }
    }
  }

  void check_interfaces() {
    std::map<std::pair<std::string, std::string>, const Interface*> seen;
    for (const Interface& i : lab_.interfaces) {
      if (i.name.value == "lo") {
        d_.error(i.name.pos, fmt::format("interface name 'lo' is taken: every namespace has its loopback"),
                 width(i.name.value));
        continue;
      }
      auto [it, fresh] = seen.emplace(std::pair(i.netns.value, i.name.value), &i);
      if (!fresh) {
        d_.error(i.name.pos,
                 fmt::format("interface '{}' is defined twice in namespace '{}'", i.name.value, i.netns.value),
                 width(i.name.value));
        d_.note(it->second->name.pos, "first defined here");
      }
    }
  }

  void check_addresses() {
    std::map<IpAddress, std::pair<const Interface*, SourcePos>> owners;
    std::map<MacAddress, const Interface*> macs;
    for (const Interface& i : lab_.interfaces) {
      for (const auto& a : i.addresses) {
        auto [it, fresh] = owners.emplace(a.value.address, std::pair(&i, a.pos));
        if (!fresh) {
          const Interface& other = *it->second.first;
          d_.error(a.pos,
                   fmt::format("address {} is already on interface '{}' in namespace '{}'", a.value.address,
                               other.name.value, other.netns.value),
                   width(to_string(a.value)));
          d_.note(it->second.second, "first assigned here");
        }
        if (a.value.address.family == Family::v6 && i.mtu && i.mtu->value < kMinMtuIpv6)
          d_.error(i.mtu->pos,
                   fmt::format("mtu {} of '{}' is below {}, the least IPv6 needs, and it has "
                               "IPv6 address {}",
                               i.mtu->value, i.name.value, kMinMtuIpv6, a.value),
                   digits(i.mtu->value));
        if (a.value.address.family == Family::v6) check_default_mtu_ipv6(i, a);
        if (a.value.address.family == Family::v6) check_ipv6_enabled(i, a);
      }
      check_link_local(i);
      if (!i.mac) continue;
      auto [it, fresh] = macs.emplace(i.mac->value, &i);
      if (!fresh) {
        d_.error(i.mac->pos,
                 fmt::format("mac {} is already on interface '{}' in namespace '{}'", i.mac->value,
                             it->second->name.value, it->second->netns.value),
                 19);
        d_.note(it->second->mac->pos, "first assigned here");
      }
    }
  }

  // An IPv4 address that is the broadcast address of another subnet of its namespace has
  // two routes of one key in the local table, "local" and "broadcast", and the kernel takes
  // whichever came first as its type: added after the other subnet, or promoted to primary,
  // its link gets no prefix route (the kernel finds the source "not local"). The routes
  // would depend on the order of history, not on the file (evolve seed 71).
  void check_broadcast_addresses() {
    for (const auto& [ns, links] : interfaces_in_) {
      std::map<IpAddress, std::pair<const Interface*, const Located<IpPrefix>*>> broadcasts;
      for (const Interface* i : links)
        for (const auto& a : i->addresses)
          if (auto b = a.value.broadcast()) broadcasts.emplace(*b, std::pair(i, &a));
      for (const Interface* i : links)
        for (const auto& a : i->addresses) {
          auto it = broadcasts.find(a.value.address);
          if (it == broadcasts.end()) continue;
          const auto& [other, subnet] = it->second;
          d_.error(a.pos,
                   fmt::format("address {} is the broadcast address of subnet {} of '{}' in namespace '{}'; the "
                               "kernel would give '{}' no route to {} when it comes second",
                               a.value.address, IpPrefix{subnet->value.network(), subnet->value.length},
                               other->name.value, ns, i->name.value, IpPrefix{a.value.network(), a.value.length}),
                   width(to_string(a.value)));
          d_.note(subnet->pos, "that subnet's address");
        }
    }
  }

  // The sysctls the file sets in namespace `ns`.
  const std::vector<Sysctl>& sysctls_of(const std::string& ns) const {
    if (ns == kHostNetns) return lab_.host_sysctls;
    static const std::vector<Sysctl> none;
    const Netns* n = find_netns(ns);
    return n ? n->sysctls : none;
  }

  // With disable_ipv6 on (for all links, those made from then on, or this one) the kernel
  // refuses an IPv6 address on the link (EACCES): the apply would fail, every time.
  void check_ipv6_enabled(const Interface& i, const Located<IpPrefix>& a) {
    for (const Sysctl& y : sysctls_of(i.netns.value)) {
      const std::string& k = y.key.value;
      if (y.value.value == "0" || (k != "net.ipv6.conf.all.disable_ipv6" && k != "net.ipv6.conf.default.disable_ipv6" &&
                                   k != "net.ipv6.conf." + i.name.value + ".disable_ipv6"))
        continue;
      d_.error(a.pos,
               fmt::format("'{}' has IPv6 address {}, but namespace '{}' sets {} = {}: the kernel refuses IPv6 "
                           "addresses there",
                           i.name.value, a.value, i.netns.value, k, y.value.value),
               width(to_string(a.value)));
      d_.note(y.key.pos, "set here");
      return;
    }
  }

  // The bytes a VXLAN's headers take from its underlay's mtu: 50 over IPv4, 70 over IPv6.
  static int64_t vxlan_headers(const Vxlan& v) {
    bool v6 = (v.local && v.local->value.family == Family::v6) || (v.remote && v.remote->value.family == Family::v6) ||
              (v.group && v.group->value.family == Family::v6) ||
              (!v.remotes.empty() && v.remotes.front().value.family == Family::v6);
    return v6 ? 70 : 50;
  }

  // The mtu a lab link will have: its own, or the kernel's default as planner/diff.cpp's
  // default_mtus() gives it (a veth's 1500, a bridge's smallest port's, a macvlan's
  // parent's, a VXLAN's underlay's less its headers); 0 when only the kernel can tell (a
  // link of the machine's underneath).
  int64_t mtu_of(const Interface& i, int depth = 0) const {
    if (i.mtu) return i.mtu->value;
    if (depth > 8) return 0;  // a loop of references, reported elsewhere
    switch (i.kind()) {
      case LinkKind::veth: return 1500;
      case LinkKind::bridge: {
        int64_t least = 1500;
        bool any = false;
        for (const Interface* p : in(interfaces_in_, i.netns.value)) {
          if (!p->master || p->master->value != i.name.value) continue;
          int64_t m = mtu_of(*p, depth + 1);
          if (!m) return 0;
          least = any ? std::min(least, m) : m;
          any = true;
        }
        return least;
      }
      case LinkKind::macvlan: {
        const auto& m = std::get<Macvlan>(i.spec);
        const Interface* parent = find_interface(m.parent_netns.value, m.parent.value);
        return parent ? mtu_of(*parent, depth + 1) : 0;
      }
      case LinkKind::vxlan: {
        const auto& v = std::get<Vxlan>(i.spec);
        if (!v.dev) return 1500;  // measured: the kernel does not subtract then
        const Interface* dev = find_interface(socket_netns(i, v), v.dev->value);
        int64_t under = dev ? mtu_of(*dev, depth + 1) : 0;
        return under ? under - vxlan_headers(v) : 0;
      }
    }
    return 0;
  }

  // A link without `mtu` takes the kernel's default (mtu_of): a VXLAN its underlay's less
  // its headers, a macvlan its parent's, a bridge its smallest port's. The kernel refuses an
  // IPv6 address on a link below 1280, so a default that low is an error here, with where it
  // comes from (evolve seed 68: a macvlan on a VXLAN on a macvlan of 1280).
  void check_default_mtu_ipv6(const Interface& i, const Located<IpPrefix>& a) {
    if (i.mtu) return;
    int64_t mtu = mtu_of(i);
    if (!mtu || mtu >= kMinMtuIpv6) return;
    d_.error(a.pos,
             fmt::format("'{}' has IPv6 address {} but its mtu would be {} ({}), below {}, the least IPv6 "
                         "needs; set its mtu or that of the link it comes from",
                         i.name.value, a.value, mtu, mtu_origin(i), kMinMtuIpv6),
             width(to_string(a.value)));
  }

  // Below 1280 the kernel has no IPv6 on a link at all: no addrgenmode to set (it refuses
  // the request), and one that comes back above it starts with a link-local address.
  void check_link_local(const Interface& i) {
    int64_t mtu = i.link_local ? 0 : mtu_of(i);
    if (!mtu || mtu >= kMinMtuIpv6) return;
    std::string whence = i.mtu ? "" : " (" + mtu_origin(i) + ")";
    d_.error(i.mtu ? i.mtu->pos : i.pos,
             fmt::format("'{}' has link_local = false but its mtu would be {}{}, below {}: the kernel has no IPv6 on "
                         "it then, nothing to turn off; leave link_local out",
                         i.name.value, mtu, whence, kMinMtuIpv6),
             i.mtu ? digits(i.mtu->value) : 1);
  }

  // Where mtu_of() takes a link's default mtu from, in words.
  std::string mtu_origin(const Interface& i) const {
    if (const auto* v = std::get_if<Vxlan>(&i.spec)) {
      const Interface* dev = v->dev ? find_interface(i.netns.value, v->dev->value) : nullptr;
      if (dev)
        return fmt::format("its underlay '{}' has mtu {}, less {} for the VXLAN headers", dev->name.value, mtu_of(*dev),
                           vxlan_headers(*v));
    }
    if (const auto* m = std::get_if<Macvlan>(&i.spec)) return fmt::format("that of its parent '{}'", m->parent.value);
    return "that of its smallest port";
  }

  std::string bridges_elsewhere(const std::string& name) const {
    for (const Interface& b : lab_.interfaces)
      if (b.kind() == LinkKind::bridge && b.name.value == name) return b.netns.value;
    return "";
  }

  // isolate = ["br-b"]: bridges of the same namespace, not itself.
  void check_isolation() {
    for (const Interface& i : lab_.interfaces) {
      const auto* b = std::get_if<Bridge>(&i.spec);
      if (!b) continue;
      for (const Located<std::string>& other : b->isolate_from) {
        const Interface* o = find_interface(i.netns.value, other.value);
        if (o && o->kind() == LinkKind::bridge && o != &i) continue;
        if (o == &i) {
          d_.error(other.pos, fmt::format("bridge '{}' cannot be isolated from itself", i.name.value),
                   width(other.value));
          continue;
        }
        std::vector<std::string> bridges;
        for (const Interface& x : lab_.interfaces)
          if (x.kind() == LinkKind::bridge && x.netns.value == i.netns.value && &x != &i)
            bridges.push_back(x.name.value);
        d_.error(
            other.pos,
            fmt::format("'isolate' of bridge '{}' names {}, which is not a bridge of namespace '{}'{}", i.name.value,
                        quoted(other.value), i.netns.value, did_you_mean(other.value, views(bridges))),
            width(other.value));
      }
    }
  }

  // The link a VXLAN (dev) or macvlan (parent) runs over, when the lab defines it.
  const Interface* lower(const Interface& i) const {
    if (const auto* v = std::get_if<Vxlan>(&i.spec))
      return v->dev ? find_interface(socket_netns(i, *v), v->dev->value) : nullptr;
    if (const auto* m = std::get_if<Macvlan>(&i.spec)) return find_interface(m->parent_netns.value, m->parent.value);
    return nullptr;
  }

  // A VXLAN or macvlan that runs, through others, over itself: none of them can be made
  // first. Said once, at the loop's first link in the file; a link that is its own lower
  // one has been told so.
  void check_lower_loops() {
    for (const Interface& i : lab_.interfaces) {
      std::vector<const Interface*> chain = {&i};
      for (const Interface* l = lower(i); l && chain.size() <= lab_.interfaces.size(); l = lower(*l)) {
        if (l == &i) {
          bool first = std::all_of(chain.begin(), chain.end(), [&](const Interface* x) { return &i <= x; });
          if (first && chain.size() > 1) loop_error(chain);
          break;
        }
        chain.push_back(l);
      }
    }
  }

  void loop_error(const std::vector<const Interface*>& chain) {
    const Interface& i = *chain.front();
    std::string path;
    for (const Interface* x : chain) path += fmt::format("'{}' over ", x->name.value);
    const Located<std::string>& under =
        std::holds_alternative<Vxlan>(i.spec) ? *std::get<Vxlan>(i.spec).dev : std::get<Macvlan>(i.spec).parent;
    d_.error(under.pos,
             fmt::format("{} '{}' runs over itself ({}'{}'): none of them can be made first", to_string(i.kind()),
                         i.name.value, path, i.name.value),
             width(under.value));
  }

  // A link over the bridge (a VXLAN whose dev it is, a macvlan on it, or on a link over it)
  // is that bridge's upper device; making it a port too would be a loop (EBUSY).
  void check_not_over(const Interface& port, const Interface& bridge) {
    const Interface* l = lower(port);
    for (int depth = 0; l && depth < 8; l = lower(*l), ++depth) {
      if (l != &bridge) continue;
      d_.error(port.master->pos,
               fmt::format("master '{}' of '{}' is the bridge it runs over; the kernel refuses a port on its "
                           "own underlay",
                           bridge.name.value, port.name.value),
               width(bridge.name.value));
      return;
    }
  }

  void check_masters() {
    std::map<const Interface*, std::vector<const Interface*>> ports;
    for (const Interface& i : lab_.interfaces) {
      if (!i.master) continue;
      const auto& m = *i.master;
      const Interface* master = find_interface(i.netns.value, m.value);
      if (master && master->kind() == LinkKind::bridge) {
        ports[master].push_back(&i);
        check_not_over(i, *master);
        continue;
      }
      if (master) {
        d_.error(
            m.pos,
            fmt::format("master '{}' of '{}' is a {}, not a bridge", m.value, i.name.value, to_string(master->kind())),
            width(m.value));
        continue;
      }
      std::string elsewhere = bridges_elsewhere(m.value);
      if (!elsewhere.empty()) {
        d_.error(m.pos,
                 fmt::format("master '{}' of '{}' is a bridge in namespace '{}', not in '{}': a "
                             "port and its bridge share a namespace",
                             m.value, i.name.value, elsewhere, i.netns.value),
                 width(m.value));
        continue;
      }
      std::vector<std::string> bridges;
      for (const Interface& b : lab_.interfaces)
        if (b.kind() == LinkKind::bridge && b.netns.value == i.netns.value) bridges.push_back(b.name.value);
      d_.error(m.pos,
               fmt::format("master {} of '{}' is not a bridge of namespace '{}'{}", quoted(m.value), i.name.value,
                           i.netns.value, did_you_mean(m.value, views(bridges))),
               width(m.value));
    }
    for (const auto& [bridge, list] : ports) {
      if (list.size() <= kMaxBridgePorts) continue;
      d_.error(list[kMaxBridgePorts]->master->pos,
               fmt::format("bridge '{}' has {} ports; a Linux bridge takes at most {}", bridge->name.value, list.size(),
                           kMaxBridgePorts));
    }
  }

  // Where a VXLAN's socket and underlay device are: its `underlay_netns`, or its own.
  static const std::string& socket_netns(const Interface& i, const Vxlan& v) {
    return v.underlay_netns ? v.underlay_netns->value : i.netns.value;
  }

  void check_vxlan(const Interface& i, const Vxlan& v) {
    if (v.underlay_netns) check_netns_ref(*v.underlay_netns);
    if (!v.dev) return;
    check_interface_ref(*v.dev, socket_netns(i, v), "dev");
    // The kernel cuts an mtu above its underlay's less the headers down at creation, and
    // refuses it as a change (EINVAL): the lab would never converge. An underlay of the
    // machine's own (not in the file) has an mtu only the kernel knows: apply checks what
    // it made, and rolls back.
    const Interface* dev = find_interface(socket_netns(i, v), v.dev->value);
    int64_t under = dev && i.mtu ? mtu_of(*dev) : 0;
    if (!under || i.mtu->value <= under - vxlan_headers(v)) return;
    d_.error(
        i.mtu->pos,
        fmt::format("mtu {} of vxlan '{}' is above {}, what its underlay '{}' (mtu {}) leaves after {} "
                    "bytes of VXLAN headers; the kernel would cut it down",
                    i.mtu->value, i.name.value, under - vxlan_headers(v), dev->name.value, under, vxlan_headers(v)),
        digits(i.mtu->value));
  }

  void check_vxlan_ids() {
    // The kernel refuses a second VXLAN with the same VNI and port on one socket: in one
    // namespace, that of their sockets.
    std::map<std::tuple<std::string, int64_t, int64_t>, const Interface*> seen;
    for (const Interface& i : lab_.interfaces) {
      const auto* v = std::get_if<Vxlan>(&i.spec);
      if (!v) continue;
      auto [it, fresh] = seen.emplace(std::tuple(socket_netns(i, *v), v->id.value, v->port.value), &i);
      if (!fresh)
        d_.error(v->id.pos,
                 fmt::format("vxlan id {} on port {} is already used by '{}' in "
                             "namespace '{}'",
                             v->id.value, v->port.value, it->second->name.value, i.netns.value),
                 digits(v->id.value));
    }
  }

  void check_macvlan(const Interface& i, const Macvlan& m) {
    if (m.parent.value.empty()) return;
    check_netns_ref(m.parent_netns);
    check_interface_ref(m.parent, m.parent_netns.value, "parent");
    if (m.parent.value == i.name.value && m.parent_netns.value == i.netns.value)
      d_.error(m.parent.pos, fmt::format("macvlan '{}' cannot be its own parent", i.name.value), width(m.parent.value));
    // The kernel puts a macvlan made on a macvlan on that one's parent instead, and reads
    // it back so: the file would never match the kernel, nor would the macvlan go with the
    // parent it names. Refused rather than taken as the grandparent: what the file says
    // is what the kernel shows.
    const Interface* parent = find_interface(m.parent_netns.value, m.parent.value);
    if (const auto* pm = parent && parent != &i ? std::get_if<Macvlan>(&parent->spec) : nullptr)
      d_.error(m.parent.pos,
               fmt::format("parent '{}' is a macvlan; the kernel would put '{}' on its parent '{}'{} instead "
                           "(name that as the parent)",
                           m.parent.value, i.name.value, pm->parent.value,
                           pm->parent_netns.value == m.parent_netns.value
                               ? ""
                               : fmt::format(" in namespace '{}'", pm->parent_netns.value)),
               width(m.parent.value));
    // The kernel refuses a macvlan an mtu above its parent's (EINVAL), and lowers it with
    // its parent's.
    int64_t under = parent && parent != &i && i.mtu ? mtu_of(*parent) : 0;
    if (under && i.mtu->value > under)
      d_.error(i.mtu->pos,
               fmt::format("mtu {} of macvlan '{}' is above {}, its parent '{}''s; the kernel refuses a macvlan "
                           "more than its parent's",
                           i.mtu->value, i.name.value, under, m.parent.value),
               digits(i.mtu->value));
    // A bridge port's frames go to the bridge; the kernel refuses a macvlan on it (EBUSY).
    if (parent && parent->master)
      d_.error(m.parent.pos,
               fmt::format("parent '{}' is a port of bridge '{}'; the kernel refuses a macvlan on a "
                           "bridge port (put the macvlan on the bridge instead)",
                           m.parent.value, parent->master->value),
               width(m.parent.value));
    // A passthru macvlan is its parent's only one: the kernel refuses (EINVAL) a second
    // macvlan of any mode beside it, and a passthru one beside any other.
    for (const Interface& o : lab_.interfaces) {
      if (&o == &i) break;
      auto* om = std::get_if<Macvlan>(&o.spec);
      if (!om || om->parent.value != m.parent.value || om->parent_netns.value != m.parent_netns.value ||
          (om->mode != MacvlanMode::passthru && m.mode != MacvlanMode::passthru))
        continue;
      d_.error(i.pos, fmt::format("parent '{}' already has a {}macvlan, '{}'; passthru takes the whole parent",
                                  m.parent.value, om->mode == MacvlanMode::passthru ? "passthru " : "", o.name.value));
      return;
    }
  }

  // Subnets a gateway can be reached on in namespace `ns` (through `dev` when given):
  // the lab's addresses there and its device routes.
  std::vector<IpPrefix> on_link(const std::string& ns, const std::string* dev) const {
    std::vector<IpPrefix> nets;
    for (const Interface* i : in(interfaces_in_, ns))
      if (!dev || i->name.value == *dev)
        for (const auto& a : i->addresses) nets.push_back(a.value);
    for (const Route* r : in(routes_in_, ns))
      if (r->dev && !r->via && (!dev || r->dev->value == *dev)) nets.push_back(r->to.value);
    return nets;
  }

  void check_gateway(const Route& r, const Located<IpAddress>& via) {
    const std::string* dev = r.dev ? &r.dev->value : nullptr;
    auto nets = on_link(r.netns.value, dev);
    for (const IpPrefix& p : nets)
      if (p.contains(via.value)) return;
    std::vector<std::string> listed;
    for (const IpPrefix& p : nets)
      if (p.address.family == via.value.family) listed.push_back(to_string(p));
    std::string place =
        dev ? fmt::format("'{}' in namespace '{}'", *dev, r.netns.value) : fmt::format("namespace '{}'", r.netns.value);
    d_.error(
        via.pos,
        fmt::format("gateway {} is not on any subnet of {} ({}); the kernel would refuse "
                    "the route",
                    via.value, place,
                    listed.empty() ? std::string("it has no ") + std::string(family_name(via.value.family)) + " address"
                                   : fmt::format("its subnets: {}", fmt::join(listed, ", "))),
        width(to_string(via.value)));
  }

  // A gateway on the subnets of two links of the namespace, and no `dev`: the kernel takes
  // the link whose prefix route came first, which follows the order the links got their
  // addresses in, not the file (a link made again moves the route to the other).
  void check_gateway_unique(const Route& r, const Located<IpAddress>& via) {
    if (r.dev || via.value.is_link_local()) return;
    std::vector<std::string> links;
    for (const Interface* i : in(interfaces_in_, r.netns.value))
      for (const auto& a : i->addresses)
        if (a.value.contains(via.value)) {
          links.push_back("'" + i->name.value + "'");
          break;
        }
    if (links.size() < 2) return;
    d_.error(via.pos,
             fmt::format("gateway {} is on a subnet of {} in namespace '{}': {}(the kernel would take whichever "
                         "got its address first)",
                         via.value, fmt::join(links, " and "), r.netns.value,
                         r.multipath.empty() ? "say which with `dev` " : ""),
             width(to_string(via.value)));
  }

  void check_routes() {
    std::map<std::tuple<std::string, IpPrefix, int64_t>, const Route*> seen;
    for (const Route& r : lab_.routes) {
      for (const Located<IpAddress>* g : r.gateways()) check_gateway_unique(r, *g);
      if (r.dev) check_interface_ref(*r.dev, r.netns.value, "dev");
      bool dev_ok = !r.dev || r.dev->value == "lo" || find_interface(r.netns.value, r.dev->value);
      for (const Located<IpAddress>* g : r.gateways())
        if (lab_owns(r.netns.value) && dev_ok && !g->value.is_link_local()) check_gateway(r, *g);
      int64_t metric = r.kernel_metric();
      auto [it, fresh] = seen.emplace(std::tuple(r.netns.value, r.to.value, metric), &r);
      if (!fresh) {
        d_.error(r.to.pos,
                 fmt::format("route to {} with metric {} is defined twice in namespace '{}'",
                             r.to.value.length == 0 ? "default" : to_string(r.to.value), metric, r.netns.value));
        d_.note(it->second->to.pos, "first defined here");
      }
    }
  }

  void check_nats() {
    using Key = std::tuple<std::string, Proto, int64_t, std::string, std::optional<Family>>;
    std::map<Key, const Nat*> seen;
    for (const Nat& n : lab_.nats) {
      if (n.kind.value != NatKind::dnat || !n.proto || !n.port) continue;
      Key key{n.netns.value, n.proto->value, n.port->value, n.in ? (n.not_in ? "!" : "") + n.in->value : "",
              n.family()};
      auto [it, fresh] = seen.emplace(key, &n);
      if (!fresh) {
        d_.error(n.port->pos,
                 fmt::format("{} port {} is already mapped in namespace '{}'", to_string(n.proto->value), n.port->value,
                             n.netns.value),
                 digits(n.port->value));
        d_.note(it->second->port->pos, "first mapped here");
      }
    }
  }

  // `from` is a namespace of the lab (or host); `to`, when not an address, one that the
  // lab gives an address to probe.
  void check_expect(const Expect& e) {
    check_netns_ref(e.from);
    if (e.to_address) return;
    const std::string& to = e.to.value;
    if (!ns_exists(to)) {
      d_.error(e.to.pos,
               fmt::format("'to' {} is neither an address nor a namespace of the lab{}", quoted(to),
                           did_you_mean(to, views(lab_.namespace_names()))),
               width(to));
      return;
    }
    if (!lab_.first_address(to))
      d_.error(e.to.pos,
               fmt::format("'to' {} names a namespace the lab gives no address; write the "
                           "address to probe",
                           quoted(to)),
               width(to));
  }

  const Lab& lab_;
  Diagnostics& d_;
  std::map<std::string_view, const Netns*> netns_;  // the first of each name
  std::map<std::pair<std::string_view, std::string_view>, const Interface*> interfaces_;
  std::map<std::string_view, std::vector<const Interface*>> interfaces_in_;
  std::map<std::string_view, std::vector<const Route*>> routes_in_;
};

}  // namespace

void validate(const Lab& lab, Diagnostics& diags) { Validator(lab, diags).run(); }

}  // namespace topo
