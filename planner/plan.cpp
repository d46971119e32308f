#include "planner/plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <queue>
#include <set>

#include "planner/nat.h"

namespace topo {
namespace {

// The phases in the order they run. Removes come first so that a replaced link's name is
// free again before it is made, and an address moved between links is released first.
enum class Phase {
  nat_remove,  // first: nothing is translated while the rest is taken down
  route_remove,
  sysctl_keep,        // an interface's sysctls before it is made again: the inverse puts them back
  port_release,       // ports kept off a bridge that goes, so that the inverse can attach them again
  bridge_quiet,       // a dying bridge down before its ports go (quiet_dying_bridges)
  link_batch_remove,  // the far ends of veths out of dying namespaces, in one request
  tunnel_remove,      // VXLANs whose socket is elsewhere, before their namespace (tunnel_of)
  netns_remove,       // before the links: a namespace takes its contents in one batch
  link_remove,
  file_remove,
  netns_create,
  sysctl_wide,  // before the links: e.g. disable_ipv6 spares the kernel autoconfiguration
  link_make,
  sysctl_link,  // net.ipv4.conf.IF.*: needs the link IF; disabling IPv6 (disables_ipv6_of_links)
  route_make,
  carrier,  // bridge ports up, together, once all else is made (defer_carrier)
  nat,      // after the links and routes: the table is made or changed whole
  file_make,
};

using LinkKey = std::pair<std::string, std::string>;  // namespace, interface

// The steps of each phase, in the diff's order until order_phase sorts them.
using Phases = std::map<Phase, std::vector<Step>>;

template <class D>
D swapped(D d) {
  std::swap(d.before, d.after);
  return d;
}

// "net.ipv4.conf.eth0.forwarding" names one interface; "...conf.all..." does not.
bool names_an_interface(const std::string& key) { return !sysctl_interface(key).empty(); }

// Disabling IPv6 in a namespace that exists makes the kernel drop the IPv6 addresses of its
// links: it comes after the link steps, so that the lab's own removal of those addresses
// finds them (and a rollback puts them back once IPv6 is on again). In a namespace being
// made it comes first, as any wide key: the links made next skip autoconfiguration.
bool disables_ipv6_of_links(const SysctlDelta& y) {
  return y.key == "net.ipv6.conf.all.disable_ipv6" && y.before && y.after && normalize_sysctl(*y.after) != "0";
}

const LinkState& shown(const LinkDelta& d) { return d.after ? *d.after : *d.before; }

// A veth end's other end's namespace; "" for another kind.
const std::string& peer_netns(const LinkState& l) {
  static const std::string none;
  const VethState* v = l.veth();
  return v ? v->peer_netns : none;
}

// The links a link step needs to exist (for a make) or to outlive it (for a remove).
std::vector<LinkKey> needs(const std::string& netns, const LinkState& l) {
  std::vector<LinkKey> out;
  if (!l.master.empty()) out.emplace_back(netns, l.master);
  if (auto under = l.underlay(netns)) out.push_back(*under);
  return out;
}

std::vector<LinkKey> provides(const Step& s) {
  const LinkState& l = shown(std::get<LinkDelta>(s.subject));
  std::vector<LinkKey> out = {{s.netns, l.name}};
  if (s.peer) out.emplace_back(peer_netns(l), shown(*s.peer).name);
  return out;
}

std::vector<LinkKey> needs(const Step& s) {
  const LinkState& l = shown(std::get<LinkDelta>(s.subject));
  std::vector<LinkKey> out = needs(s.netns, l);
  if (s.peer) {
    auto more = needs(peer_netns(l), shown(*s.peer));
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

// The bridges that the links of `s` are ports of.
std::vector<LinkKey> ports_of(const Step& s) {
  std::vector<LinkKey> out;
  const auto& d = std::get<LinkDelta>(s.subject);
  if (d.after && !d.after->master.empty()) out.emplace_back(s.netns, d.after->master);
  if (s.peer && s.peer->after && !s.peer->after->master.empty())
    out.emplace_back(peer_netns(shown(d)), s.peer->after->master);
  return out;
}

// The underlay whose mtu a VXLAN or macvlan made by `s` is born under: it is made once the
// underlay's ports are settled, since a bridge's mtu follows its ports and a VXLAN's cannot
// be above its underlay's less the headers (the kernel cuts it down).
std::vector<LinkKey> born_on(const Step& s) {
  const auto& d = std::get<LinkDelta>(s.subject);
  if (s.action != Action::create || !d.after) return {};
  if (auto under = d.after->underlay(s.netns)) return {*under};
  return {};
}

// Whether `s` changes a live link and lowers its mtu.
bool lowers_mtu(const Step& s) {
  const auto& d = std::get<LinkDelta>(s.subject);
  return d.before && d.after && d.after->mtu && d.after->mtu < d.before->mtu;
}

// Whether step `child` goes before step `parent`, which it would otherwise wait for: a
// macvlan (or VXLAN) whose mtu goes down goes down before its live parent's (underlay's).
// Lowered first, the parent would make the kernel lower a macvlan on it by itself, which no
// step's inverse raises again when a later step fails; the child's own step would then undo
// to an mtu above its parent's (EINVAL). Raising keeps the parent first, as the kernel needs.
bool goes_before_parent(const Step& child, const Step& parent, const LinkKey& k) {
  const auto& c = std::get<LinkDelta>(child.subject);
  const auto& p = std::get<LinkDelta>(parent.subject);
  if (!lowers_mtu(child) || !p.before || !p.after) return false;
  const LinkState& l = *c.after;
  return k == l.underlay(child.netns);
}

// Kahn's algorithm over items 0..n-1, `after[i]` being those that must come after i: the
// earliest ready item each time (a min-heap of the ready ones), so that the order is the
// input's wherever the edges allow; on a cycle (validation forbids them), the earliest left.
std::vector<size_t> dependency_order(const std::vector<std::set<size_t>>& after) {
  std::vector<size_t> waits(after.size(), 0);
  for (const auto& then : after)
    for (size_t t : then) ++waits[t];
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < after.size(); ++i)
    if (waits[i] == 0) ready.push(i);
  std::vector<size_t> out;
  out.reserve(after.size());
  std::vector<bool> done(after.size(), false);
  while (out.size() < after.size()) {
    size_t pick;
    if (!ready.empty()) {
      pick = ready.top();
      ready.pop();
    } else {
      pick = static_cast<size_t>(std::find(done.begin(), done.end(), false) - done.begin());
    }
    if (done[pick]) continue;
    done[pick] = true;
    out.push_back(pick);
    for (size_t then : after[pick])
      if (--waits[then] == 0 && !done[then]) ready.push(then);
  }
  return out;
}

// The steps in dependency order (dependency_order); `reverse`: dependents first (removes).
std::vector<Step> in_dependency_order(std::vector<Step> steps, bool reverse) {
  std::map<LinkKey, size_t> provider;
  std::map<LinkKey, std::vector<size_t>> ports;  // bridge -> the steps of links on it
  for (size_t i = 0; i < steps.size(); ++i) {
    for (const LinkKey& k : provides(steps[i])) provider.emplace(k, i);
    for (const LinkKey& k : ports_of(steps[i])) ports[k].push_back(i);
  }
  std::vector<std::set<size_t>> after(steps.size());  // after[i]: steps waiting for i
  for (size_t i = 0; i < steps.size(); ++i) {
    for (const LinkKey& k : needs(steps[i]))
      if (auto p = provider.find(k); p != provider.end() && p->second != i) {
        bool flip = reverse || goes_before_parent(steps[i], steps[p->second], k);
        auto [first, then] = flip ? std::pair{i, p->second} : std::pair{p->second, i};
        after[first].insert(then);
      }
    if (reverse) continue;
    for (const LinkKey& k : born_on(steps[i]))
      for (size_t p : ports[k])
        if (p != i) after[p].insert(i);
  }
  std::vector<Step> out;
  out.reserve(steps.size());
  for (size_t i : dependency_order(after)) out.push_back(std::move(steps[i]));
  return out;
}

// A veth end whose other end is made (or deleted) in the same phase joins that end's step.
std::vector<Step> fold_veth_pairs(std::vector<Step> steps) {
  std::map<LinkKey, size_t> at;
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i].action != Action::modify) at.emplace(provides(steps[i]).front(), i);
  std::vector<bool> folded(steps.size(), false);
  for (size_t i = 0; i < steps.size(); ++i) {
    if (folded[i] || steps[i].action == Action::modify) continue;
    const LinkState& l = shown(std::get<LinkDelta>(steps[i].subject));
    const VethState* v = l.veth();
    if (!v) continue;
    auto other = at.find({v->peer_netns, v->peer_name});
    if (other == at.end() || other->second <= i || folded[other->second]) continue;
    steps[i].peer = std::get<LinkDelta>(steps[other->second].subject);
    folded[other->second] = true;
  }
  std::vector<Step> out;
  out.reserve(steps.size() - static_cast<size_t>(std::count(folded.begin(), folded.end(), true)));
  for (size_t i = 0; i < steps.size(); ++i)
    if (!folded[i]) out.push_back(std::move(steps[i]));
  return out;
}

// Deleting a namespace deletes what is in it; each of those goes in the plan as its own
// step so that the rollback can make it again exactly.
void plan_namespace_removal(const Change& c, const NamespaceDelta& n, Phases& out) {
  const NamespaceState& had = *n.before;
  if (had.nat && had.nat->mark == had.mark)
    out[Phase::nat_remove].push_back({Action::remove, c.netns, TableDelta{{had.nat, std::nullopt}}, {}, false, {}});
  for (const RouteState& r : had.routes)
    if (r.protocol == kRouteProtocol)
      out[Phase::route_remove].push_back({Action::remove, c.netns, RouteDelta{{r, std::nullopt}}, {}, false, {}});
  for (const LinkState& l : had.links)
    if (l.alias == had.mark)
      out[Phase::link_remove].push_back({Action::remove, c.netns, LinkDelta{{l, std::nullopt}}, {}, false, {}});
  for (const auto& [file, text] : had.files)
    out[Phase::file_remove].push_back({Action::remove, c.netns, FileDelta{{text, std::nullopt}, file}, {}, false, {}});
  NamespaceState bare;  // what the step itself deletes, and its inverse makes: the namespace
  bare.exists = true;
  bare.mark = had.mark;
  bare.sysctls = had.sysctls;  // the kernel's values die with it: the inverse sets them again
  out[Phase::netns_remove].push_back({Action::remove, c.netns, NamespaceDelta{{bare, std::nullopt}}, {}, false, {}});
}

void plan_change(const Change& c, Phases& out) {
  auto step = [&](Action a, Subject s, bool half = false) { return Step{a, c.netns, std::move(s), {}, half, {}}; };
  if (const auto* n = std::get_if<NamespaceDelta>(&c.subject)) {
    if (c.action == Action::remove) return plan_namespace_removal(c, *n, out);
    out[Phase::netns_create].push_back(step(c.action, *n));
  } else if (const auto* l = std::get_if<LinkDelta>(&c.subject)) {
    if (c.action == Action::replace) {
      out[Phase::link_remove].push_back(step(Action::remove, LinkDelta{{l->before, std::nullopt}}, true));
      out[Phase::link_make].push_back(step(Action::create, LinkDelta{{std::nullopt, l->after}}, true));
    } else {
      out[c.action == Action::remove ? Phase::link_remove : Phase::link_make].push_back(step(c.action, *l));
    }
  } else if (const auto* r = std::get_if<RouteDelta>(&c.subject)) {
    if (c.action == Action::replace) {  // its device is made again: the route goes before it
      out[Phase::route_remove].push_back(step(Action::remove, RouteDelta{{r->before, std::nullopt}}, true));
      out[Phase::route_make].push_back(step(Action::create, RouteDelta{{std::nullopt, r->after}}, true));
    } else {
      out[c.action == Action::remove ? Phase::route_remove : Phase::route_make].push_back(step(c.action, *r));
    }
  } else if (const auto* y = std::get_if<SysctlDelta>(&c.subject)) {
    bool after_links = names_an_interface(y->key) || disables_ipv6_of_links(*y);
    out[after_links ? Phase::sysctl_link : Phase::sysctl_wide].push_back(step(c.action, *y));
  } else if (const auto* f = std::get_if<FileDelta>(&c.subject)) {
    out[c.action == Action::remove ? Phase::file_remove : Phase::file_make].push_back(step(c.action, *f));
  } else if (const auto* t = std::get_if<TableDelta>(&c.subject)) {
    out[c.action == Action::remove ? Phase::nat_remove : Phase::nat].push_back(step(c.action, *t));
  }
}

std::vector<Step> order_phase(Phase phase, std::vector<Step> steps) {
  switch (phase) {
    case Phase::link_remove: return in_dependency_order(fold_veth_pairs(std::move(steps)), true);
    case Phase::link_make: return in_dependency_order(fold_veth_pairs(std::move(steps)), false);
    case Phase::route_make:
      // A route through a gateway needs the gateway reachable: direct routes go first.
      std::stable_partition(steps.begin(), steps.end(),
                            [](const Step& s) { return !std::get<RouteDelta>(s.subject).after->has_gateway(); });
      return steps;
    default: return steps;
  }
}

// The namespaces a removal step touches: its own, its veth peer's, its macvlan parent's.
std::vector<std::string> touched(const Step& s) {
  std::vector<std::string> out = {s.netns};
  if (const auto* l = std::get_if<LinkDelta>(&s.subject); l && l->before) {
    if (s.peer) out.push_back(peer_netns(*l->before));
    if (const MacvlanState* m = l->before->macvlan()) out.push_back(m->parent_netns);
  }
  return out;
}

// Whether `s` removes a VXLAN whose socket is in another namespace than its own.
bool tunnel_of(const Step& s) {
  const auto* l = std::get_if<LinkDelta>(&s.subject);
  return l && l->before && !l->after && l->before->vxlan() && !l->before->vxlan()->underlay_netns.empty();
}

// The links whose deletion takes `s` along: a VXLAN's underlay, a macvlan's parent.
std::vector<LinkKey> dies_with(const Step& s) {
  const auto* l = std::get_if<LinkDelta>(&s.subject);
  if (!l || !l->before) return {};
  if (auto under = l->before->underlay(s.netns)) return {*under};
  return {};
}

// The interface sysctls of the links that namespace removal `i` takes along in another
// dying namespace (a veth's far end): moved from that namespace's removal, whose undoing
// would set them before the links are there, into step `i`'s contents, first, so that
// undoing `i` sets them once it has made the links again (evolve seed 111).
std::vector<Step> far_sysctls(std::vector<Step>& namespaces, const std::map<std::string, size_t>& step_of, size_t i,
                              const std::vector<Step>& links) {
  const std::string& here = namespaces[i].netns;
  std::set<LinkKey> far;
  for (const Step& s : links) {
    const auto* l = std::get_if<LinkDelta>(&s.subject);
    if (!l || !l->before) continue;
    if (s.netns != here) far.emplace(s.netns, l->before->name);
    if (const VethState* v = l->before->veth(); s.peer && v && v->peer_netns != here)
      far.emplace(v->peer_netns, v->peer_name);
  }
  std::vector<Step> out;
  for (const auto& [ns, dev] : far) {
    auto j = step_of.find(ns);
    if (j == step_of.end() || j->second == i) continue;
    auto& d = std::get<NamespaceDelta>(namespaces[j->second].subject);
    if (!d.before) continue;
    std::map<std::string, std::string>& sysctls = d.before->sysctls;
    for (auto y = sysctls.begin(); y != sysctls.end();) {
      if (sysctl_interface(y->first) != dev) {
        ++y;
        continue;
      }
      out.push_back({Action::modify, ns, SysctlDelta{{y->second, y->second}, y->first}, {}, false, {}});
      y = sysctls.erase(y);
    }
  }
  return out;
}

// Moves each removal that a namespace removal implies into that step's contents: what is
// in the namespace, what is joined to it (a veth's other end), and, repeatedly, what dies
// with those (a VXLAN over them, a macvlan on them). Each goes with the first step that
// would take it along: a macvlan in n14 on a veth end that n35's removal takes goes with
// n35, even though n14 is its own namespace (evolve seed 43).
void absorb_into_namespaces(Phases& ordered) {
  std::vector<Step>& namespaces = ordered[Phase::netns_remove];
  if (namespaces.empty()) return;
  std::vector<std::vector<Step>> nats(namespaces.size()), routes(namespaces.size()), links(namespaces.size()),
      files(namespaces.size());
  std::map<LinkKey, size_t> dying;        // link -> the namespace step it goes with
  std::map<std::string, size_t> step_of;  // namespace -> its removal step
  for (size_t i = namespaces.size(); i-- > 0;) step_of[namespaces[i].netns] = i;
  // A VXLAN whose socket is in another namespace (a [[link]] across machines) is deleted by
  // a step of its own before its namespace: with the namespace it would go later, in the
  // background, its VNI taken until then, so that undoing the step could not make it again.
  // The routes through it go before it, by steps of their own too.
  std::set<LinkKey> tunnels;
  for (const Step& s : ordered[Phase::link_remove])
    if (tunnel_of(s)) tunnels.insert({s.netns, std::get<LinkDelta>(s.subject).before->name});
  auto through_tunnel = [&](const Step& s) {
    const auto* r = std::get_if<RouteDelta>(&s.subject);
    if (!r || !r->before) return false;
    for (const std::string& dev : r->before->devs())
      if (tunnels.count({s.netns, dev})) return true;
    return false;
  };
  auto home_of = [&](const Step& s) -> std::optional<size_t> {
    if (tunnel_of(s) || through_tunnel(s)) return std::nullopt;
    std::optional<size_t> first;
    auto take = [&](size_t i) {
      if (!first || i < *first) first = i;
    };
    for (const std::string& ns : touched(s))
      if (auto it = step_of.find(ns); it != step_of.end()) take(it->second);
    std::vector<LinkKey> under = dies_with(s);
    if (const auto* r = std::get_if<RouteDelta>(&s.subject); r && r->before && !r->before->dev.empty())
      under.emplace_back(s.netns, r->before->dev);  // a route dies with its device
    for (const LinkKey& k : under)
      if (auto d = dying.find(k); d != dying.end()) take(d->second);
    return first;
  };
  // Homes only ever move to earlier steps, so this settles.
  std::vector<Step>& removed = ordered[Phase::link_remove];
  std::vector<std::optional<size_t>> home(removed.size());
  for (bool moved = true; moved;) {
    moved = false;
    for (size_t i = 0; i < removed.size(); ++i) {
      auto h = home_of(removed[i]);
      if (h == home[i]) continue;
      home[i] = h;
      for (const LinkKey& k : provides(removed[i])) dying[k] = *h;
      moved = true;
    }
  }
  std::vector<Step> stay;
  for (size_t i = 0; i < removed.size(); ++i)
    if (home[i])
      links[*home[i]].push_back(std::move(removed[i]));
    else if (tunnel_of(removed[i]) && step_of.count(removed[i].netns))
      ordered[Phase::tunnel_remove].push_back(std::move(removed[i]));
    else
      stay.push_back(std::move(removed[i]));
  removed = std::move(stay);
  // A route through a link that another namespace's removal takes along goes with that
  // one too, whatever namespace it is in: the kernel deletes it with its device, and undone,
  // the step makes the device first (a routed lab's routes through its [[link]]s: 1000
  // steps of their own for 30 routers before).
  auto device_dies_at = [&](const Step& s, size_t h) {
    const auto* r = std::get_if<RouteDelta>(&s.subject);
    if (!r || !r->before || r->before->dev.empty()) return false;
    auto d = dying.find({s.netns, r->before->dev});
    return d != dying.end() && d->second == h;
  };
  // A multipath route loses only the next hop whose device goes: the kernel keeps it
  // without that one (a dead next hop in IPv4, the others in IPv6). One with a device that
  // another step takes is removed by a step of its own before, and made again after the
  // rollback of all of them; only one whose devices all go with its own namespace goes with it.
  auto loses_a_hop_elsewhere = [&](const Step& s, size_t h) {
    const auto* r = std::get_if<RouteDelta>(&s.subject);
    if (!r || !r->before || r->before->multipath.empty()) return false;
    for (const std::string& dev : r->before->devs())
      if (auto d = dying.find({s.netns, dev}); d != dying.end() && d->second != h) return true;
    return false;
  };
  for (auto [phase, into] : {std::pair{Phase::nat_remove, &nats}, std::pair{Phase::route_remove, &routes},
                             std::pair{Phase::file_remove, &files}}) {
    std::vector<Step> kept;
    for (Step& s : ordered[phase]) {
      auto h = home_of(s);
      if (h && !loses_a_hop_elsewhere(s, *h) && (s.netns == namespaces[*h].netns || device_dies_at(s, *h)))
        (*into)[*h].push_back(std::move(s));
      else
        kept.push_back(std::move(s));
    }
    ordered[phase] = std::move(kept);
  }
  for (size_t i = 0; i < namespaces.size(); ++i) {
    std::vector<Step>& c = namespaces[i].contents;
    for (Step& s : far_sysctls(namespaces, step_of, i, links[i])) c.push_back(std::move(s));
    for (Step& s : nats[i]) c.push_back(std::move(s));
    for (Step& s : routes[i]) c.push_back(std::move(s));
    for (Step& s : in_dependency_order(std::move(links[i]), true)) c.push_back(std::move(s));
    for (Step& s : files[i]) c.push_back(std::move(s));
  }
}

// The other end of a veth pair that a namespace removal takes along, when that end lives in
// a namespace that stays (host, adopted): the kernel would reap it in the background, one
// namespace at a time.
std::optional<LinkKey> far_end(const Step& s, const std::set<std::string>& dying) {
  const auto* l = std::get_if<LinkDelta>(&s.subject);
  if (!s.peer || !l || !l->before) return std::nullopt;
  const VethState& v = *l->before->veth();
  bool here = dying.count(s.netns), there = dying.count(v.peer_netns);
  if (here == there) return std::nullopt;
  if (here) return LinkKey{v.peer_netns, v.peer_name};
  return LinkKey{s.netns, l->before->name};
}

// Whether another of a namespace's contents needs `s`'s links (a macvlan on its end, a
// VXLAN over it, a port of its bridge): then `s` must stay with them, in their order.
bool needed_within(const Step& s, const std::vector<Step>& contents) {
  std::vector<LinkKey> mine = provides(s);
  for (const Step& other : contents) {
    if (&other == &s || !std::holds_alternative<LinkDelta>(other.subject)) continue;
    std::vector<LinkKey> deps = needs(other), more = dies_with(other);
    deps.insert(deps.end(), more.begin(), more.end());
    for (const LinkKey& k : deps)
      if (std::find(mine.begin(), mine.end(), k) != mine.end()) return true;
  }
  return false;
}

// Deleting veths one request at a time costs the kernel a synchronisation each (~20 ms at
// scale), and so does letting it reap them namespace by namespace. So the veth pairs that
// join dying namespaces to one that stays leave those namespaces' contents and go, two or
// more, in one step per staying namespace: one request for them all (an interface group),
// before the namespaces, which are then all but empty.
// A far end that a link of another dying namespace needs (a macvlan there on it) stays
// with its namespace too: in a batch it would go first, taking that link along before its
// own namespace's step, whose inverse would then find no parent to make it on.
void batch_far_ends(Phases& ordered) {
  std::vector<Step>& namespaces = ordered[Phase::netns_remove];
  std::set<std::string> dying;
  for (const Step& n : namespaces) dying.insert(n.netns);
  std::set<LinkKey> needed;  // links that a removed link elsewhere needs or dies with
  for (const Step& n : namespaces)
    for (const Step& c : n.contents)
      if (std::holds_alternative<LinkDelta>(c.subject))
        for (const auto& keys : {needs(c), dies_with(c)})
          for (const LinkKey& k : keys)
            if (k.first != n.netns) needed.insert(k);
  auto needed_elsewhere = [&](const Step& c) {
    for (const LinkKey& k : provides(c))
      if (needed.count(k)) return true;
    return false;
  };
  auto batchable = [&](const Step& c, const std::vector<Step>& contents) -> std::optional<LinkKey> {
    auto far = far_end(c, dying);
    if (!far || needed_within(c, contents) || needed_elsewhere(c)) return std::nullopt;
    return far;
  };
  std::vector<std::vector<std::optional<LinkKey>>> fars(namespaces.size());
  std::map<std::string, size_t> count;
  for (size_t i = 0; i < namespaces.size(); ++i)
    for (const Step& c : namespaces[i].contents) {
      fars[i].push_back(batchable(c, namespaces[i].contents));
      if (fars[i].back()) ++count[fars[i].back()->first];
    }
  std::map<std::string, Step> batches;
  std::map<std::string, std::vector<Step>> routes;  // batch -> the routes that die with it
  std::map<LinkKey, std::string> batched;           // each end of a batched pair -> its batch
  for (size_t i = 0; i < namespaces.size(); ++i) {
    std::vector<Step> kept;
    for (size_t j = 0; j < namespaces[i].contents.size(); ++j) {
      Step& c = namespaces[i].contents[j];
      const auto& far = fars[i][j];
      if (!far || count[far->first] < 2) {
        kept.push_back(std::move(c));
        continue;
      }
      auto b = batches.find(far->first);
      if (b == batches.end()) {
        LinkBatchDelta names{{std::vector<std::string>{}, std::nullopt}};
        b = batches.emplace(far->first, Step{Action::remove, far->first, names, {}, false, {}}).first;
      }
      std::get<LinkBatchDelta>(b->second.subject).before->push_back(far->second);
      for (const LinkKey& end : provides(c)) batched.emplace(end, far->first);
      b->second.contents.push_back(std::move(c));
    }
    // A route through a batched end dies with it: it goes (and comes back) with it too; a
    // multipath one would only lose that hop, and goes by a step of its own before
    // (absorb_into_namespaces).
    std::vector<Step> stays;
    for (Step& c : kept) {
      const auto* r = std::get_if<RouteDelta>(&c.subject);
      if (r && r->before && !r->before->multipath.empty()) {
        const std::vector<std::string> devs = r->before->devs();
        if (std::any_of(devs.begin(), devs.end(), [&](const std::string& d) { return batched.count({c.netns, d}); })) {
          ordered[Phase::route_remove].push_back(std::move(c));
          continue;
        }
      }
      auto end = r && r->before ? batched.find({c.netns, r->before->dev}) : batched.end();
      if (end == batched.end()) {
        stays.push_back(std::move(c));
        continue;
      }
      routes[end->second].push_back(std::move(c));
    }
    namespaces[i].contents = std::move(stays);
  }
  for (auto& [ns, step] : batches) {  // routes first, as in a namespace's contents
    std::vector<Step> contents = std::move(routes[ns]);
    for (Step& c : step.contents) contents.push_back(std::move(c));
    step.contents = std::move(contents);
    ordered[Phase::link_batch_remove].push_back(std::move(step));
  }
}

// Each port a bridge loses while it is up makes the kernel re-run its port state selection
// over all the ports left (re-arming their multicast timers), and the lab's IPv6 chatter keeps
// flooding through it while they go: quadratic in the ports, 0.3 s of a 1000-port destroy.
// A bridge that this plan deletes anyway, and whose ports (two or more) go in a batch, is
// brought down first, in one request; its ports then leave a bridge with nothing to update.
void quiet_dying_bridges(Phases& ordered) {
  std::map<LinkKey, size_t> ports;  // bridge -> how many of its ports the batches delete
  for (const Step& batch : ordered[Phase::link_batch_remove])
    for (const Step& c : batch.contents) {
      const auto* l = std::get_if<LinkDelta>(&c.subject);
      if (!l || !l->before) continue;
      if (c.netns == batch.netns && !l->before->master.empty()) ++ports[{c.netns, l->before->master}];
      if (c.peer && c.peer->before && peer_netns(*l->before) == batch.netns && !c.peer->before->master.empty())
        ++ports[{batch.netns, c.peer->before->master}];
    }
  for (Step& s : ordered[Phase::link_remove]) {
    auto& d = std::get<LinkDelta>(s.subject);
    if (s.action != Action::remove || !d.before->is(LinkKind::bridge) || !d.before->up) continue;
    if (auto n = ports.find({s.netns, d.before->name}); n == ports.end() || n->second < 2) continue;
    LinkState down = *d.before;
    down.up = false;
    // What the kernel drops as the bridge goes down, the inverse adds again.
    std::erase_if(down.addresses, dropped_on_down);
    ordered[Phase::bridge_quiet].push_back({Action::modify, s.netns, LinkDelta{{d.before, down}}, {}, false, {}});
    d.before = down;  // what the removal finds, and its inverse makes again
  }
}

// A port the plan keeps whose bridge it deletes (removed or made again): the kernel would
// release it with the bridge, and the bridge's inverse would not attach it again. So it is
// released by a step of its own before the bridge goes, whose inverse attaches it; its
// modify then starts from no bridge (and goes when that was all it did).
void release_ports(Phases& phases) {
  std::set<LinkKey> dying;
  for (const Step& s : phases[Phase::link_remove])
    if (const auto* l = std::get_if<LinkDelta>(&s.subject); l && l->before) dying.emplace(s.netns, l->before->name);
  if (dying.empty()) return;
  std::vector<Step>& made = phases[Phase::link_make];
  std::vector<Step> kept;
  kept.reserve(made.size());
  for (Step& s : made) {
    auto& d = std::get<LinkDelta>(s.subject);
    if (s.action != Action::modify || d.before->master.empty() || !dying.count({s.netns, d.before->master})) {
      kept.push_back(std::move(s));
      continue;
    }
    LinkState released = *d.before;
    released.master.clear();
    phases[Phase::port_release].push_back({Action::modify, s.netns, LinkDelta{{d.before, released}}, {}, false, {}});
    d.before = released;
    if (!(*d.after == released)) kept.push_back(std::move(s));
  }
  made = std::move(kept);
}

// The kernel gives a link made again its sysctls' defaults. Each sysctl set on a link that
// goes in this plan (or was, diff.kept) gets a step before it goes that writes its value as
// it is: nothing for the kernel, but its inverse, run once the link is made again, gives
// the value back.
void keep_link_sysctls(const std::vector<Change>& kept, Phases& phases) {
  for (const Change& c : kept) phases[Phase::sysctl_keep].push_back({c.action, c.netns, c.subject, {}, false, {}});
  std::set<LinkKey> dying;
  for (const Step& s : phases[Phase::link_remove])
    if (const auto* l = std::get_if<LinkDelta>(&s.subject); l && l->before) dying.emplace(s.netns, l->before->name);
  for (const Step& s : phases[Phase::sysctl_link]) {
    const auto& d = std::get<SysctlDelta>(s.subject);
    if (d.before && dying.count({s.netns, sysctl_interface(d.key)}))
      phases[Phase::sysctl_keep].push_back(
          {Action::modify, s.netns, SysctlDelta{{d.before, d.before}, d.key}, {}, false, {}});
  }
}

void count(const Diff& d, Plan& p) {
  for (const Change& c : d.changes) {
    if (const auto* t = std::get_if<TableDelta>(&c.subject)) {  // each rule counts, and the table
      for (const NatLine& l : nat_lines(*t))
        ++(l.action == Action::create ? p.to_add : l.action == Action::remove ? p.to_destroy : p.to_change);
      continue;
    }
    switch (c.action) {
      case Action::create: ++p.to_add; break;
      case Action::modify: ++p.to_change; break;
      case Action::replace: ++p.to_add, ++p.to_destroy; break;
      case Action::remove: ++p.to_destroy; break;
    }
  }
}

}  // namespace

Step Step::inverse() const {
  Step s = *this;
  if (action == Action::create) s.action = Action::remove;
  if (action == Action::remove) s.action = Action::create;
  std::visit([](auto& d) { std::swap(d.before, d.after); }, s.subject);
  if (s.peer) s.peer = swapped(*s.peer);
  s.contents.clear();
  for (auto c = contents.rbegin(); c != contents.rend(); ++c) s.contents.push_back(c->inverse());
  return s;
}

std::vector<std::string> Step::far_namespaces() const {
  std::set<std::string> out;
  if (!std::holds_alternative<LinkBatchDelta>(subject)) return {};
  for (const Step& c : contents) {
    const auto* l = std::get_if<LinkDelta>(&c.subject);
    const auto& link = l ? (l->before ? l->before : l->after) : std::nullopt;  // the inverse has after
    if (!link) continue;
    for (const std::string& n : {c.netns, peer_netns(*link)})
      if (n != netns && n != "host") out.insert(n);
  }
  return {out.begin(), out.end()};
}

// The new bridges that can come up after their new ports, by namespace and name: each port
// coming up under a bridge that is up makes the bridge walk all its ports
// (br_port_state_selection) and opens it to the floods of the IPv6 autoconfiguration its
// peer starts; under a bridge that is down it does neither, and the bridge takes all its
// ports at once when it comes up after them. Only bridges nothing else needs up while the
// rest is made: no route is made in their namespace (the kernel refuses a route through a
// link that is down), and no VXLAN or macvlan sits on them.
std::map<LinkKey, LinkState*> bridges_that_can_wait(Phases& ordered) {
  std::set<std::string> routed;
  for (const Step& s : ordered[Phase::route_make]) routed.insert(s.netns);
  std::map<LinkKey, LinkState*> out;
  std::set<LinkKey> leaned_on;
  for (Step& s : ordered[Phase::link_make]) {
    auto& d = std::get<LinkDelta>(s.subject);
    if (!d.after) continue;
    if (auto under = d.after->underlay(s.netns)) leaned_on.insert(*under);
    if (s.action == Action::create && d.after->is(LinkKind::bridge) && d.after->up && !routed.count(s.netns))
      out[{s.netns, d.after->name}] = &*d.after;
  }
  for (const LinkKey& k : leaned_on) out.erase(k);
  return out;
}

// A bridge port that comes up gives its veth peer carrier, and with it IPv6
// autoconfiguration starts on both ends (its multicast flooded to every port of the bridge)
// and linkwatch work on the bridge: at hundreds of ports that background holds the kernel's
// rtnl lock through most of an apply (7 s instead of 3 s at 1000 namespaces). So the ports
// made in one namespace, two or more as for batches, are made down, and come up together
// once the rest is made. IPv4 routes do not wait for carrier (the kernel ignores link state
// when it checks an IPv4 gateway); an IPv6 gateway must be on the prefix of a link that is up
// ("No route to host" otherwise), so no port is held down at either end where the plan makes
// an IPv6 route through a gateway.
// A port with an address of its own is not held down: the kernel gives a link that is down
// no route to its subnet, and a route through a gateway there would be refused (evolve seed 60).
bool can_wait_down(const LinkState& l) { return l.up && !l.master.empty() && l.addresses.empty(); }

void defer_carrier(Phases& ordered) {
  std::set<std::string> routed6;  // namespaces where an IPv6 route through a gateway is made
  for (const Step& s : ordered[Phase::route_make]) {
    const auto& r = std::get<RouteDelta>(s.subject).after;
    if (r && r->via && r->via->family == Family::v6) routed6.insert(s.netns);
  }
  std::map<std::string, std::vector<LinkState*>> ports;  // namespace -> its new bridge ports
  for (Step& s : ordered[Phase::link_make]) {
    auto& d = std::get<LinkDelta>(s.subject);
    if (s.action != Action::create || !d.after->is(LinkKind::veth)) continue;
    if (routed6.count(s.netns) || routed6.count(peer_netns(*d.after))) continue;
    if (can_wait_down(*d.after))
      ports[s.netns].push_back(&*d.after);
    else if (s.peer && s.peer->after && can_wait_down(*s.peer->after))
      ports[peer_netns(*d.after)].push_back(&*s.peer->after);  // one end without carrier is enough
  }
  std::map<LinkKey, LinkState*> waiting = bridges_that_can_wait(ordered);
  for (auto& [netns, links] : ports) {
    if (links.size() < 2) continue;
    LinkUpDelta up{{std::nullopt, std::vector<std::string>{}}};
    for (LinkState* l : links) {
      l->up = false;
      up.after->push_back(l->name);
    }
    for (LinkState* l : links) {  // then their bridges, once each
      auto bridge = waiting.find({netns, l->master});
      if (bridge == waiting.end() || !bridge->second->up) continue;
      bridge->second->up = false;
      up.after->push_back(bridge->first.second);
    }
    ordered[Phase::carrier].push_back({Action::modify, netns, up, {}, false, {}});
  }
}

Plan make_plan(Diff diff) {
  // Steps are large (a link's state before and after, and its peer's): each is moved as
  // few times as it can be, into vectors reserved up front. Growing them instead made
  // planning the 1000-namespace star touch 40 MB and spend half its time in page faults.
  Phases ordered;
  for (const Change& c : diff.changes) plan_change(c, ordered);
  release_ports(ordered);
  keep_link_sysctls(diff.kept, ordered);
  for (auto& [phase, steps] : ordered) steps = order_phase(phase, std::move(steps));
  absorb_into_namespaces(ordered);
  batch_far_ends(ordered);
  quiet_dying_bridges(ordered);
  defer_carrier(ordered);
  Plan plan;
  size_t total = 0;
  for (const auto& [phase, steps] : ordered) total += steps.size();
  plan.steps.reserve(total);
  for (auto& [phase, steps] : ordered)
    for (Step& s : steps) plan.steps.push_back(std::move(s));
  plan.conflicts = diff.conflicts;
  plan.notes = diff.notes;
  count(diff, plan);
  plan.diff = std::move(diff);
  return plan;
}

}  // namespace topo
