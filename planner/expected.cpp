#include "planner/expected.h"

#include <fmt/format.h>

#include <algorithm>

#include "planner/filter.h"
#include "planner/nat.h"

namespace topo {
namespace {

// The model's kind-specific part of an interface as the kernel holds it.
LinkKindState kind_state(const Lab& lab, const LinkSpec& spec, const std::string& netns) {
  if (const auto* v = std::get_if<VethEnd>(&spec)) {
    const Interface& peer = lab.interfaces.at(v->peer);
    return VethState{peer.netns.value, peer.name.value};
  }
  if (const auto* v = std::get_if<Vxlan>(&spec)) {
    VxlanState x;
    x.id = v->id.value;
    if (v->local) x.local = v->local->value;
    if (v->remote) x.remote = v->remote->value;
    if (v->group) x.group = v->group->value;
    for (const auto& r : v->remotes) x.remotes.push_back(r.value);
    if (v->dev) x.dev = v->dev->value;
    if (v->underlay_netns && v->underlay_netns->value != netns) x.underlay_netns = v->underlay_netns->value;
    x.port = v->port.value;
    return x;
  }
  if (const auto* m = std::get_if<Macvlan>(&spec))
    return MacvlanState{std::string(to_string(m->mode)), m->parent.value, m->parent_netns.value};
  return BridgeState{};
}

std::string origin_text(const std::optional<Origin>& o) {
  if (!o) return "";
  switch (o->role) {
    case Origin::Role::bridge: return "network " + o->network;
    case Origin::Role::segment: return "network " + o->network + ", its segment";
    case Origin::Role::member_end:
    case Origin::Role::inside: return "network " + o->network + ", member " + o->member;
    case Origin::Role::link: return "link " + o->network;
  }
  return "";
}

LinkState link_state(const Lab& lab, const Interface& i) {
  LinkState l;
  l.name = i.name.value;
  l.kind = kind_state(lab, i.spec, i.netns.value);
  l.alias = ownership_mark(lab.name.value);
  l.mtu = i.mtu ? i.mtu->value : 0;
  if (i.mac)
    l.mac = i.mac->value;
  else if (i.kind() == LinkKind::bridge)
    l.mac = bridge_mac(lab.name.value, i.netns.value, i.name.value);
  l.up = true;  // every link the lab creates is up
  if (i.master) l.master = i.master->value;
  l.link_local = i.link_local;
  if (i.shape) l.qdisc = qdisc_of(i.shape->value, l.mtu);
  for (const auto& a : i.addresses) l.addresses.push_back(a.value);
  std::sort(l.addresses.begin(), l.addresses.end());
  l.origin.text = origin_text(i.origin);
  return l;
}

RouteState route_state(const Route& r) {
  RouteState s;
  s.to = r.to.value;
  if (r.via) s.via = r.via->value;
  if (r.dev) s.dev = r.dev->value;
  for (const auto& g : r.multipath) s.multipath.push_back({g.value, "", 1});
  if (r.computed) s.origin.text = "computed";
  // The kernel gives IPv6 routes metric 1024 when none (or 0) is asked for; say so, or an
  // applied route would never match its file.
  s.metric = r.kernel_metric();
  return s;
}

void add_sysctls(const std::vector<Sysctl>& from, NamespaceState& to) {
  for (const Sysctl& s : from) to.sysctls[s.key.value] = s.value.value;
}

}  // namespace

std::string resolv_conf_text(const Lab& lab, const Netns& ns) {
  if (ns.dns.empty()) return "";
  std::string out = fmt::format("# written by topo for lab {}\n", lab.name.value);
  for (const auto& a : ns.dns) out += fmt::format("nameserver {}\n", a.value);
  return out;
}

std::string hosts_text(const Lab& lab, const Netns& ns) {
  if (ns.hosts.empty()) return "";
  // `ip netns exec` mounts this file over /etc/hosts, so it must name localhost too.
  std::string out = fmt::format("# written by topo for lab {}\n127.0.0.1\tlocalhost\n::1\tlocalhost\n", lab.name.value);
  for (const HostsEntry& h : ns.hosts)
    for (const auto& a : h.addresses) out += fmt::format("{}\t{}\n", a.value, h.name.value);
  return out;
}

State expected_state(const Lab& lab) {
  State s;
  NamespaceState& host = s.namespaces[std::string(kHostNetns)];
  host.exists = true;
  host.adopted = true;  // never created nor deleted by a lab
  add_sysctls(lab.host_sysctls, host);
  add_sysctls(lab.host_limits, host);
  for (const Sysctl& l : lab.host_limits) host.at_least.insert(l.key.value);
  std::string mark = ownership_mark(lab.name.value);
  for (const Netns& n : lab.netns) {
    NamespaceState& ns = s.namespaces[n.name.value];
    ns.exists = true;
    ns.adopted = n.adopted();
    if (!ns.adopted) ns.mark = mark;
    ns.path = n.pid    ? fmt::format("/proc/{}/ns/net", n.pid->value)
              : n.path ? n.path->value
                       : "/run/netns/" + n.name.value;
    add_sysctls(n.sysctls, ns);
    if (auto text = resolv_conf_text(lab, n); !text.empty()) ns.files["resolv.conf"] = text;
    if (auto text = hosts_text(lab, n); !text.empty()) ns.files["hosts"] = text;
  }
  for (const Interface& i : lab.interfaces) s.namespaces[i.netns.value].links.push_back(link_state(lab, i));
  for (auto& [name, ns] : s.namespaces) {
    if (!ns.adopted) continue;
    for (LinkState& l : ns.links) {
      const NamespaceState* far = l.veth() ? s.find(l.veth()->peer_netns) : nullptr;
      if (far && !far->adopted) l.group = ownership_group(lab.name.value);
    }
  }
  for (const Route& r : lab.routes) s.namespaces[r.netns.value].routes.push_back(route_state(r));
  std::map<std::string, std::vector<NftChain>> filters = filter_chains(lab);
  for (const std::string& ns : lab.namespace_names()) {
    std::optional<NftTable> table = expected_nat(lab, ns);
    auto filter = filters.find(ns);
    if (filter == filters.end() && !table) continue;
    if (!table) table = NftTable{nat_table_name(lab.name.value), ownership_mark(lab.name.value), 0, {}};
    if (filter != filters.end())
      table->chains.insert(table->chains.end(), filter->second.begin(), filter->second.end());
    s.namespaces[ns].nat = std::move(table);
  }
  return s;
}

State destroyed_state() {
  State s;
  s.namespaces["host"].exists = true;
  s.namespaces["host"].adopted = true;
  return s;
}

}  // namespace topo
