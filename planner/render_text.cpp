#include "planner/render_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "parser/diagnostics.h"
#include "planner/nat.h"

namespace topo {
namespace {

// A plan says "default" of IPv4 only: "route ::/0" keeps an IPv6 default route apart from
// the IPv4 one beside it.
std::string plan_destination(const IpPrefix& p) {
  return p.length == 0 && p.address.family == Family::v4 ? "default" : to_string(p);
}

std::string symbol(Action a) {
  switch (a) {
    case Action::create: return "+";
    case Action::modify: return "~";
    case Action::replace: return "-/+";
    case Action::remove: return "-";
  }
  return "?";
}

template <class T>
std::string show(const std::optional<T>& v) {
  return v ? fmt::format("{}", *v) : "none";
}
std::string show(const std::string& v) { return v.empty() ? "none" : v; }

// A veth's other end or a macvlan's parent: "red/eth0", or where topo did not look.
std::string end_of(const std::string& netns, const std::string& name) {
  return netns == kUnknownNetns ? "in another namespace" : netns + "/" + name;
}

// "order 10.0.0.4/24 10.0.0.3/24 -> 10.0.0.3/24 10.0.0.4/24": the addresses both states
// have, where they are in another order on a subnet (the first is the primary).
std::string subnet_order(const LinkState& b, const LinkState& a) {
  auto common = [](const std::vector<IpPrefix>& in, const std::vector<IpPrefix>& other) {
    std::vector<IpPrefix> out;
    for (const IpPrefix& p : in)
      if (std::find(other.begin(), other.end(), p) != other.end()) out.push_back(p);
    return out;
  };
  std::vector<IpPrefix> before = common(b.addresses, a.addresses), after = common(a.addresses, b.addresses);
  if (before == after) return "";
  return fmt::format("order {} -> {}", fmt::join(before, " "), fmt::join(after, " "));
}

// "mtu 1500 -> 9000, master none -> br0, +10.0.0.3/24"
std::string link_fields(const LinkState& b, const LinkState& a) {
  std::vector<std::string> parts;
  if (a.mtu != b.mtu) parts.push_back(fmt::format("mtu {} -> {}", b.mtu, a.mtu));
  if (a.mac != b.mac) parts.push_back(fmt::format("mac {} -> {}", show(b.mac), show(a.mac)));
  if (a.up != b.up) parts.push_back(a.up ? "down -> up" : "up -> down");
  if (a.master != b.master) parts.push_back(fmt::format("master {} -> {}", show(b.master), show(a.master)));
  if (a.group != b.group) parts.push_back(fmt::format("group {} -> {}", b.group, a.group));
  for (const IpPrefix& p : a.addresses)
    if (std::find(b.addresses.begin(), b.addresses.end(), p) == b.addresses.end())
      parts.push_back(fmt::format("+{}", p));
  for (const IpPrefix& p : b.addresses)
    if (std::find(a.addresses.begin(), a.addresses.end(), p) == a.addresses.end())
      parts.push_back(fmt::format("-{}", p));
  if (std::string order = subnet_order(b, a); !order.empty()) parts.push_back(order);
  if (a.qdisc != b.qdisc) parts.push_back("shape " + qdisc_change(b.qdisc, a.qdisc));
  if (a.remotes() != b.remotes())
    parts.push_back(fmt::format("remotes [{}] -> [{}]", fmt::join(b.remotes(), ", "), fmt::join(a.remotes(), ", ")));
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Whether a change of a link changes its root qdisc and nothing else.
bool only_shape(const LinkState& b, const LinkState& a) {
  LinkState unshaped = a;
  unshaped.qdisc = b.qdisc;
  return a.qdisc != b.qdisc && unshaped == b;
}

// Why a link must be made again: the first attribute the kernel cannot change that differs.
std::string identity_change(const LinkState& b, const LinkState& a) {
  if (a.kind.index() != b.kind.index() || a.kind_name() != b.kind_name())
    return fmt::format("kind {} -> {}", b.kind_name(), a.kind_name());
  if (a.link_local != b.link_local) return fmt::format("link_local {} -> {}", b.link_local, a.link_local);
  if (const VethState* x = a.veth()) {
    const VethState& y = *b.veth();
    return fmt::format("peer {} -> {}", end_of(y.peer_netns, y.peer_name), end_of(x->peer_netns, x->peer_name));
  }
  if (const VxlanState* x = a.vxlan()) {
    const VxlanState& y = *b.vxlan();
    if (x->id != y.id) return fmt::format("id {} -> {}", y.id, x->id);
    if (x->local != y.local) return fmt::format("local {} -> {}", show(y.local), show(x->local));
    if (x->remote != y.remote) return fmt::format("remote {} -> {}", show(y.remote), show(x->remote));
    if (x->group != y.group) return fmt::format("group {} -> {}", show(y.group), show(x->group));
    if (x->dev != y.dev) return fmt::format("dev {} -> {}", show(y.dev), show(x->dev));
    if (x->underlay_netns != y.underlay_netns)
      return fmt::format("underlay_netns {} -> {}", show(y.underlay_netns), show(x->underlay_netns));
    return fmt::format("port {} -> {}", y.port, x->port);
  }
  const MacvlanState& x = *a.macvlan();
  const MacvlanState& y = *b.macvlan();
  if (x.mode != y.mode) return fmt::format("mode {} -> {}", y.mode, x.mode);
  return fmt::format("parent {} -> {}", end_of(y.parent_netns, y.parent), end_of(x.parent_netns, x.parent));
}

// "route default: via 10.0.0.1 -> 10.0.0.254": only what changes. A route without `dev`
// in the file leaves the device to the kernel, so the device it has now is no change.
std::string route_fields(const RouteState& b, const RouteState& a) {
  if (!a.multipath.empty() || !b.multipath.empty())
    return fmt::format("route {}:{} ->{}", plan_destination(a.to), route_paths(b), route_paths(a));
  std::vector<std::string> parts;
  if (a.via != b.via) parts.push_back(fmt::format("via {} -> {}", show(b.via), show(a.via)));
  if (!a.dev.empty() && a.dev != b.dev) parts.push_back(fmt::format("dev {} -> {}", show(b.dev), show(a.dev)));
  return fmt::format("route {}: {}", plan_destination(a.to), fmt::join(parts, ", "));
}

std::string rules(size_t n) { return fmt::format("{} rule{}", n, n == 1 ? "" : "s"); }

// A NAT change on one line (for steps and logs; plans show nat_lines): the table and how
// many of its rules come and go.
std::string nat_summary(const Action action, const TableDelta& d) {
  const NftTable& shown = d.after ? *d.after : *d.before;
  size_t added = 0, removed = 0;
  for (const NatLine& l : nat_lines(d)) {
    if (l.text.rfind("nft table ", 0) == 0) continue;
    ++(l.action == Action::create ? added : removed);
  }
  std::string out = "nft table inet " + shown.name;
  if (action == Action::create) return out + ": " + rules(added);
  if (action == Action::remove) return out + ": " + rules(removed);
  if (added == 0 && removed == 0) return out + ": rewritten as topo makes it";
  return out + fmt::format(": {} added, {} removed", rules(added), removed);
}

std::string subject_text(const Change& c) {
  const Action action = c.action;
  const Subject& s = c.subject;
  if (const auto* n = std::get_if<NamespaceDelta>(&s)) {
    (void)n;
    return "netns";
  }
  if (const auto* l = std::get_if<LinkDelta>(&s)) {
    const LinkState& shown = l->after ? *l->after : *l->before;
    if (action == Action::modify && c.why.empty() && only_shape(*l->before, *l->after))
      return fmt::format("shape {}: {}", shown.name, qdisc_change(l->before->qdisc, l->after->qdisc));
    if (action == Action::modify) {
      std::string fields = link_fields(*l->before, *l->after);
      if (c.why.empty()) return fmt::format("{} {}: {}", shown.kind_name(), shown.name, fields);
      if (fields.empty())
        return fmt::format("{} {}: master {} again ({})", shown.kind_name(), shown.name, shown.master, c.why);
      return fmt::format("{} {}: {} ({})", shown.kind_name(), shown.name, fields, c.why);
    }
    if (action == Action::replace)
      return fmt::format("{} ({})", describe(*l->after, c.netns),
                         c.why.empty() ? identity_change(*l->before, *l->after) : c.why);
    if (action == Action::create && !shown.origin.text.empty())
      return fmt::format("{} ({})", describe(shown, c.netns), shown.origin.text);
    return describe(shown, c.netns);
  }
  if (const auto* r = std::get_if<RouteDelta>(&s)) {
    if (action == Action::modify) return route_fields(*r->before, *r->after);
    if (action == Action::replace) return fmt::format("{} ({})", describe(*r->after), c.why);
    if (action == Action::create && !r->after->origin.text.empty())
      return fmt::format("{} ({})", describe(*r->after), r->after->origin.text);
    return describe(r->after ? *r->after : *r->before);
  }
  if (const auto* y = std::get_if<SysctlDelta>(&s)) {
    // Either side may be missing: a value that could not be read, and the undo of setting
    // it (which leaves the sysctl as it is).
    // A key of a namespace or interface the plan makes had no value to read.
    std::string none = y->made_with.empty() ? "(unreadable)" : "(new " + y->made_with + ")";
    auto value = [&](const std::optional<std::string>& v) { return v ? *v : none; };
    if (y->before == y->after && !c.why.empty())
      return fmt::format("sysctl {} = {} again ({})", y->key, value(y->after), c.why);
    // The value written as it is: kept before its link goes (for an undo that makes it
    // again), or written again once the link is made again.
    if (y->before == y->after) return fmt::format("sysctl {} = {}", y->key, value(y->after));
    return fmt::format("sysctl {}: {} -> {}", y->key, value(y->before), value(y->after));
  }
  if (const auto* b = std::get_if<LinkBatchDelta>(&s)) {
    const std::vector<std::string>& names = b->before ? *b->before : *b->after;
    return fmt::format("{} links at once: {}", names.size(), fmt::join(names, " "));
  }
  if (const auto* u = std::get_if<LinkUpDelta>(&s)) {
    const std::vector<std::string>& names = u->after ? *u->after : *u->before;
    return fmt::format("{} {} links at once: {}", u->after ? "up" : "down", names.size(), fmt::join(names, " "));
  }
  if (const auto* t = std::get_if<TableDelta>(&s)) return nat_summary(action, *t);
  const auto& f = std::get<FileDelta>(s);
  return fmt::format("file {}", f.file);
}

}  // namespace

std::string ip_destination(const IpPrefix& p) { return p.length == 0 ? "default" : to_string(p); }

std::string link_identity(const LinkState& l) {
  std::string out = fmt::format("{} {}", l.kind_name().empty() ? "link" : l.kind_name(), l.name);
  if (const VethState* v = l.veth()) out += " peer " + end_of(v->peer_netns, v->peer_name);
  if (const VxlanState* v = l.vxlan()) {
    out += fmt::format(" id {}", v->id);
    if (v->local) out += fmt::format(" local {}", *v->local);
    if (v->remote) out += fmt::format(" remote {}", *v->remote);
    if (v->group) out += fmt::format(" group {}", *v->group);
    if (!v->remotes.empty()) out += fmt::format(" remotes {}", fmt::join(v->remotes, ","));
    if (!v->dev.empty()) out += fmt::format(" dev {}", v->dev);
    if (!v->underlay_netns.empty()) out += fmt::format(" underlay {}", v->underlay_netns);
    out += fmt::format(" port {}", v->port);
  }
  if (const MacvlanState* m = l.macvlan())
    out += fmt::format(" parent {} mode {}", end_of(m->parent_netns, m->parent), m->mode);
  return out;
}

std::string describe(const LinkState& l, std::string_view netns) {
  std::string out = link_identity(l);
  for (const IpPrefix& a : l.addresses) out += fmt::format(" {}", a);
  if (l.mtu) out += fmt::format(" mtu {}", l.mtu);
  bool derived =
      !netns.empty() && l.is(LinkKind::bridge) && l.mac && *l.mac == bridge_mac(lab_of_mark(l.alias), netns, l.name);
  if (l.mac && !derived) out += fmt::format(" mac {}", *l.mac);
  if (!l.master.empty()) out += fmt::format(" master {}", l.master);
  if (!l.link_local) out += " link_local false";
  if (l.qdisc) out += " shape " + describe(*l.qdisc);
  return out;
}

std::string route_paths(const RouteState& r) {
  std::string out;
  if (r.via) out += fmt::format(" via {}", *r.via);
  if (!r.dev.empty()) out += fmt::format(" dev {}", r.dev);
  for (const NextHop& h : r.multipath) {
    out += " nexthop";
    if (h.via) out += fmt::format(" via {}", *h.via);
    if (!h.dev.empty()) out += fmt::format(" dev {}", h.dev);
    if (h.weight != 1) out += fmt::format(" weight {}", h.weight);
  }
  return out;
}

std::string describe(const RouteState& r) {
  std::string out = "route " + plan_destination(r.to) + route_paths(r);
  if (r.metric) out += fmt::format(" metric {}", r.metric);
  return out;
}

std::string describe(const Change& c) {
  std::string text = subject_text(c);
  if (std::holds_alternative<NamespaceDelta>(c.subject)) text += " " + c.netns;
  return symbol(c.action) + " " + text;
}

namespace {

// A change as plan lines: one, or for NAT one per rule.
std::vector<std::string> lines(const Change& c) {
  const auto* t = std::get_if<TableDelta>(&c.subject);
  if (!t) return {describe(c)};
  std::vector<std::string> out;
  for (const NatLine& l : nat_lines(*t)) out.push_back(symbol(l.action) + " " + l.text);
  return out;
}

}  // namespace

std::string describe(const Diff& d) {
  std::string out;
  for (const Change& c : d.changes)
    for (const std::string& l : lines(c)) out += c.netns + ": " + l + "\n";
  for (const Conflict& c : d.conflicts) out += "conflict: " + c.message + "\n";
  return shown(out);
}

namespace {

// Each namespace's lines, host first, where the user's own machine is touched; then the
// lab's namespaces by name. One pass over the diff: a lab of 1000 namespaces has 4000 changes.
struct NamespaceLines {
  std::vector<const Change*> changes;
  std::vector<const Conflict*> conflicts;
};

struct HostFirst {
  bool operator()(const std::string& a, const std::string& b) const {
    return std::make_pair(a != "host", std::string_view(a)) < std::make_pair(b != "host", std::string_view(b));
  }
};

std::map<std::string, NamespaceLines, HostFirst> by_namespace(const Diff& d) {
  std::map<std::string, NamespaceLines, HostFirst> out;
  for (const Change& c : d.changes) out[c.netns].changes.push_back(&c);
  for (const Conflict& c : d.conflicts) out[c.netns].conflicts.push_back(&c);
  return out;
}

}  // namespace

std::string describe(const Step& s) {
  Change c{s.action, s.netns, s.subject, {}};
  std::string out = fmt::format("{}: {}", s.netns, describe(c));
  if (s.peer) {
    const LinkState& first = s.peer->after ? *s.peer->after : *s.peer->before;
    const LinkState& mine =
        s.action == Action::create ? *std::get<LinkDelta>(s.subject).after : *std::get<LinkDelta>(s.subject).before;
    const std::string& there = mine.veth()->peer_netns;
    out += fmt::format(" & {}: {}", there, describe(first, there));
  }
  if (s.half_of_replace) out += " (replace)";
  for (const Step& content : s.contents) out += "\n    with " + describe(content);
  return shown(out);
}

// What the plan cannot do and need not (Diff::notes), after everything else.
std::string notes_text(const Plan& p) {
  std::string out;
  for (const Conflict& n : p.notes) out += fmt::format("note: {}: {}\n", n.netns, n.message);
  return out;
}

std::string plan_text(const Plan& p) {
  if (p.empty()) return "No changes. The kernel matches the lab.\n" + notes_text(p);
  std::string out;
  for (const auto& [ns, in] : by_namespace(p.diff)) {
    out += fmt::format("namespace {}\n", ns);
    for (const Change* c : in.changes)
      for (const std::string& l : lines(*c)) out += "  " + l + "\n";
    for (const Conflict* c : in.conflicts) out += "  ! conflict: " + c->message + "\n";
  }
  out += fmt::format("\nPlan: {} to add, {} to change, {} to destroy.\n", p.to_add, p.to_change, p.to_destroy);
  if (!p.conflicts.empty())
    out += fmt::format("{} conflict{}: topo does not touch what is not the lab's; apply would refuse.\n",
                       p.conflicts.size(), p.conflicts.size() == 1 ? "" : "s");
  out += notes_text(p);
  return shown(out);  // names others gave their links (in conflicts, removals) come from the kernel
}

}  // namespace topo
