#include "parser/describe.h"

#include "lower/machines.h"

#include <fmt/format.h>

#include "parser/shape.h"

namespace topo {
namespace {

std::string common_attributes(const Interface& i) {
  std::string out;
  for (const auto& a : i.addresses) out += fmt::format(" {}", a.value);
  if (i.mtu) out += fmt::format(" mtu {}", i.mtu->value);
  if (i.mac) out += fmt::format(" mac {}", i.mac->value);
  if (i.master) out += fmt::format(" master {}", i.master->value);
  if (!i.link_local) out += " link_local false";
  if (i.shape) out += fmt::format(" shape {{ {} }}", shape_keys(i.shape->value));
  return out;
}

std::string kind_attributes(const Lab& lab, const Interface& i) {
  if (const auto* v = std::get_if<VethEnd>(&i.spec)) {
    const Interface& peer = lab.interfaces.at(v->peer);
    return fmt::format(" peer {}/{}", peer.netns.value, peer.name.value);
  }
  if (const auto* v = std::get_if<Vxlan>(&i.spec)) {
    std::string out = fmt::format(" id {}", v->id.value);
    if (v->local) out += fmt::format(" local {}", v->local->value);
    if (v->remote) out += fmt::format(" remote {}", v->remote->value);
    if (v->group) out += fmt::format(" group {}", v->group->value);
    if (!v->remotes.empty()) {
      out += " remotes";
      for (const auto& r : v->remotes) out += fmt::format(" {}", r.value);
    }
    if (v->dev) out += fmt::format(" dev {}", v->dev->value);
    if (v->underlay_netns) out += fmt::format(" underlay_netns {}", v->underlay_netns->value);
    return out + fmt::format(" port {}", v->port.value);
  }
  if (const auto* m = std::get_if<Macvlan>(&i.spec))
    return fmt::format(" parent {}/{} mode {}", m->parent_netns.value, m->parent.value, to_string(m->mode));
  if (const auto* b = std::get_if<Bridge>(&i.spec)) {
    std::string out = b->isolate ? " isolated" : "";
    for (size_t k = 0; k < b->isolate_from.size(); ++k) out += (k ? "," : " isolated from ") + b->isolate_from[k].value;
    return out;
  }
  return "";
}

std::string destination(const IpPrefix& p) {
  if (p.length == 0 && p.address.family == Family::v4) return "default";
  return to_string(p);
}

void describe_namespace(const Lab& lab, const std::string& ns, std::string& out) {
  const Netns* n = lab.find_netns(ns);
  out += fmt::format("netns {}", ns);
  if (n && n->pid) out += fmt::format(" (adopted: pid {})", n->pid->value);
  if (n && n->path) out += fmt::format(" (adopted: path {})", n->path->value);
  out += "\n";
  const std::vector<Sysctl>& sysctls = n ? n->sysctls : lab.host_sysctls;
  for (const Sysctl& s : sysctls) out += "  " + describe(s) + "\n";
  if (!n)
    for (const Sysctl& s : lab.host_limits) out += fmt::format("  limit {} >= {}\n", s.key.value, s.value.value);
  for (const Interface& i : lab.interfaces)
    if (i.netns.value == ns) out += "  " + describe(lab, i) + "\n";
  for (const Route& r : lab.routes)
    if (r.netns.value == ns) out += "  " + describe(r) + "\n";
  for (const Nat& nat : lab.nats)
    if (nat.netns.value == ns) out += "  " + describe(nat) + "\n";
  const FilterPolicy& p = n ? n->policy : lab.host_policy;
  for (auto [chain, policy] :
       {std::pair{"forward", &p.forward}, std::pair{"input", &p.input}, std::pair{"output", &p.output}})
    if (*policy) out += fmt::format("  policy {} {}\n", chain, (*policy)->value);
  for (const Filter& f : lab.filters)
    if (f.netns.value == ns) out += "  " + describe(f) + "\n";
  if (!n) return;
  for (const auto& d : n->dns) out += fmt::format("  dns {}\n", d.value);
  for (const HostsEntry& h : n->hosts) {
    out += fmt::format("  hosts {}", h.name.value);
    for (const auto& a : h.addresses) out += fmt::format(" {}", a.value);
    out += "\n";
  }
}

}  // namespace

std::string describe(const Lab& lab, const Interface& i) {
  return fmt::format("{} {}{}{}", to_string(i.kind()), i.name.value, kind_attributes(lab, i), common_attributes(i));
}

std::string describe(const Route& r) {
  std::string out = "route " + destination(r.to.value);
  if (r.via) out += fmt::format(" via {}", r.via->value);
  for (const auto& g : r.multipath) out += fmt::format(" nexthop via {}", g.value);
  if (r.dev) out += fmt::format(" dev {}", r.dev->value);
  if (r.metric) out += fmt::format(" metric {}", r.metric->value);
  return out;
}

std::string describe(const Nat& n) {
  std::string out = fmt::format("nat {}", to_string(n.kind.value));
  if (n.proto) out += fmt::format(" {}", to_string(n.proto->value));
  if (n.port) out += fmt::format(" {}", n.port->value);
  if (n.source) out += fmt::format(" {}", n.source->value);
  if (n.to) {
    bool v6 = n.to->value.family == Family::v6;
    if (n.to_port && v6)
      out += fmt::format(" -> [{}]:{}", n.to->value, n.to_port->value);
    else if (n.to_port)
      out += fmt::format(" -> {}:{}", n.to->value, n.to_port->value);
    else
      out += fmt::format(" -> {}", n.to->value);
  }
  if (n.in) out += fmt::format(" in {}{}", n.not_in ? "!" : "", n.in->value);
  if (n.out) out += fmt::format(" out {}{}", n.not_out ? "!" : "", n.out->value);
  return out;
}

std::string describe(const Filter& f) {
  std::string out = fmt::format("filter {}: {}", f.chain.value, f.action.value);
  if (f.proto) out += " " + f.proto->value;
  for (size_t i = 0; i < f.ports.size(); ++i) {
    const PortRange& p = f.ports[i].value;
    out += (i ? "," : " dport ") + (p.lo == p.hi ? fmt::format("{}", p.lo) : fmt::format("{}-{}", p.lo, p.hi));
  }
  if (f.source) out += fmt::format(" from {}{}", f.not_source ? "!" : "", f.source->value);
  if (f.destination) out += fmt::format(" to {}{}", f.not_destination ? "!" : "", f.destination->value);
  if (f.in) out += fmt::format(" in {}{}", f.not_in ? "!" : "", f.in->value);
  if (f.out) out += fmt::format(" out {}{}", f.not_out ? "!" : "", f.out->value);
  for (size_t i = 0; i < f.state.size(); ++i) out += (i ? "," : " state ") + f.state[i].value;
  return out;
}

std::string describe(const Sysctl& s) { return fmt::format("sysctl {} = {}", s.key.value, s.value.value); }

std::string describe(const Lab& lab) {
  std::string out = fmt::format("lab {}\n", lab.name.value);
  if (lab.machines.empty()) {
    for (const std::string& ns : lab.namespace_names()) describe_namespace(lab, ns, out);
    return out;
  }
  // Over several machines, each one's slice: its host is a namespace of its own.
  for (const Machine& m : lab.machines) {
    out += fmt::format("machine {} {}\n", m.name.value, m.address.value);
    Lab mine = slice(lab, m.name.value);
    for (const std::string& ns : mine.namespace_names()) describe_namespace(mine, ns, out);
  }
  return out;
}

}  // namespace topo
