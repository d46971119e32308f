#include "parser/lab_toml.h"

#include <fmt/format.h>

#include <set>

#include "parser/shape.h"

namespace topo {
namespace {

// A TOML basic string: names are checked, but sysctl values and paths may hold anything
// printable, and '"' and '\' need escapes.
std::string str(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += {'\\', c};
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out + "\"";
}

template <class T>
std::string str_of(const T& v) {
  return str(fmt::format("{}", v));
}

std::string comment(const std::string& source, SourcePos pos) {
  return pos.known() ? fmt::format("# {}:{}\n", source, pos.line) : "";
}

// A sysctl value as the file gave it: integers stay integers.
std::string sysctl_value(const std::string& v) {
  bool number = !v.empty() && v.find_first_not_of("0123456789", v[0] == '-' ? 1 : 0) == std::string::npos && v != "-" &&
                v.size() < 19;
  return number ? v : str(v);
}

std::string sysctls(const std::vector<Sysctl>& list, const char* key = "sysctl") {
  std::vector<std::string> parts;
  for (const Sysctl& s : list) parts.push_back(fmt::format("{} = {}", str(s.key.value), sysctl_value(s.value.value)));
  return fmt::format("{} = {{ {} }}\n", key, fmt::join(parts, ", "));
}

std::string policy(const FilterPolicy& p) {
  std::vector<std::string> parts;
  if (p.forward) parts.push_back("forward = " + str(p.forward->value));
  if (p.input) parts.push_back("input = " + str(p.input->value));
  if (p.output) parts.push_back("output = " + str(p.output->value));
  return parts.empty() ? "" : fmt::format("policy = {{ {} }}\n", fmt::join(parts, ", "));
}

std::string list(const std::vector<std::string>& items) { return fmt::format("[{}]", fmt::join(items, ", ")); }

template <class T>
std::string located_list(const std::vector<Located<T>>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(str_of(i.value));
  return list(out);
}

// The keys every link shares, and master, as `key = value` pairs.
std::vector<std::string> link_keys(const Interface& i) {
  std::vector<std::string> out = {"name = " + str(i.name.value)};
  if (i.netns.value != kHostNetns) out.push_back("netns = " + str(i.netns.value));
  if (!i.addresses.empty()) out.push_back("addresses = " + located_list(i.addresses));
  if (i.mtu) out.push_back(fmt::format("mtu = {}", i.mtu->value));
  if (i.mac) out.push_back("mac = " + str_of(i.mac->value));
  if (i.master) out.push_back("master = " + str(i.master->value));
  if (!i.link_local) out.push_back("link_local = false");
  if (i.shape) out.push_back(fmt::format("shape = {{ {} }}", shape_keys(i.shape->value)));
  return out;
}

std::string lines(const std::vector<std::string>& pairs) {
  std::string out;
  for (const std::string& p : pairs) out += p + "\n";
  return out;
}

std::string netns_table(const Netns& n, const std::string& source) {
  std::string out = "\n" + comment(source, n.pos) + "[[netns]]\nname = " + str(n.name.value) + "\n";
  if (n.pid) out += fmt::format("pid = {}\n", n.pid->value);
  if (n.path) out += "path = " + str(n.path->value) + "\n";
  if (!n.sysctls.empty()) out += sysctls(n.sysctls);
  if (!n.dns.empty()) out += "dns = " + located_list(n.dns) + "\n";
  if (!n.hosts.empty()) {
    std::vector<std::string> parts;
    for (const HostsEntry& h : n.hosts) {
      std::string v = h.addresses.size() == 1 ? str_of(h.addresses[0].value) : located_list(h.addresses);
      parts.push_back(str(h.name.value) + " = " + v);
    }
    out += fmt::format("hosts = {{ {} }}\n", fmt::join(parts, ", "));
  }
  return out + policy(n.policy);
}

std::string link_table(const Lab& lab, size_t index, const std::string& source) {
  const Interface& i = lab.interfaces[index];
  std::string head = "\n" + comment(source, i.pos);
  if (const auto* v = std::get_if<VethEnd>(&i.spec)) {
    const Interface& peer = lab.interfaces[v->peer];
    const Interface& a = v->end == 'a' ? i : peer;
    const Interface& b = v->end == 'a' ? peer : i;
    return head + fmt::format("[[veth]]\na = {{ {} }}\nb = {{ {} }}\n", fmt::join(link_keys(a), ", "),
                              fmt::join(link_keys(b), ", "));
  }
  std::vector<std::string> keys = link_keys(i);
  if (const auto* b = std::get_if<Bridge>(&i.spec)) {
    if (b->isolate) keys.push_back("isolate = true");
    if (!b->isolate_from.empty()) keys.push_back("isolate = " + located_list(b->isolate_from));
    return head + "[[bridge]]\n" + lines(keys);
  }
  if (const auto* v = std::get_if<Vxlan>(&i.spec)) {
    keys.push_back(fmt::format("id = {}", v->id.value));
    if (v->local) keys.push_back("local = " + str_of(v->local->value));
    if (v->remote) keys.push_back("remote = " + str_of(v->remote->value));
    if (v->group) keys.push_back("group = " + str_of(v->group->value));
    if (!v->remotes.empty()) {
      std::vector<std::string> remotes;
      for (const auto& r : v->remotes) remotes.push_back(str_of(r.value));
      keys.push_back(fmt::format("remotes = [{}]", fmt::join(remotes, ", ")));
    }
    if (v->dev) keys.push_back("dev = " + str(v->dev->value));
    if (v->underlay_netns) keys.push_back("underlay_netns = " + str(v->underlay_netns->value));
    keys.push_back(fmt::format("port = {}", v->port.value));
    return head + "[[vxlan]]\n" + lines(keys);
  }
  const auto& m = std::get<Macvlan>(i.spec);
  keys.push_back("parent = " + str(m.parent.value));
  keys.push_back("parent_netns = " + str(m.parent_netns.value));
  keys.push_back("mode = " + str(to_string(m.mode)));
  return head + "[[macvlan]]\n" + lines(keys);
}

std::string route_table(const Route& r, const std::string& source) {
  std::vector<std::string> keys;
  if (r.netns.value != kHostNetns) keys.push_back("netns = " + str(r.netns.value));
  // "default" is IPv4's unless `via` is IPv6.
  auto gateways = r.gateways();
  bool v6_via = !gateways.empty() && gateways.front()->value.family == Family::v6;
  bool is_default = r.to.value.length == 0 && (r.to.value.address.family == Family::v4 || v6_via);
  keys.push_back("to = " + (is_default ? str("default") : str_of(r.to.value)));
  if (r.via) keys.push_back("via = " + str_of(r.via->value));
  std::vector<std::string> listed;
  for (const auto& g : r.multipath) listed.push_back(str_of(g.value));
  if (!listed.empty()) keys.push_back(fmt::format("via = [{}]", fmt::join(listed, ", ")));
  if (r.dev) keys.push_back("dev = " + str(r.dev->value));
  if (r.metric) keys.push_back(fmt::format("metric = {}", r.metric->value));
  return "\n" + comment(source, r.pos) + "[[route]]\n" + lines(keys);
}

std::string negated(bool neg, const std::string& name) { return str((neg ? "!" : "") + name); }

std::string nat_table(const Nat& n, const std::string& source) {
  std::vector<std::string> keys;
  if (n.netns.value != kHostNetns) keys.push_back("netns = " + str(n.netns.value));
  keys.push_back("kind = " + str(to_string(n.kind.value)));
  if (n.source) keys.push_back("source = " + str_of(n.source->value));
  if (n.out) keys.push_back("out = " + negated(n.not_out, n.out->value));
  if (n.to && n.to_port)
    keys.push_back("to = " + str(n.to->value.family == Family::v6
                                     ? fmt::format("[{}]:{}", n.to->value, n.to_port->value)
                                     : fmt::format("{}:{}", n.to->value, n.to_port->value)));
  else if (n.to)
    keys.push_back("to = " + str_of(n.to->value));
  if (n.proto) keys.push_back("proto = " + str(to_string(n.proto->value)));
  if (n.port) keys.push_back(fmt::format("port = {}", n.port->value));
  if (n.in) keys.push_back("in = " + negated(n.not_in, n.in->value));
  return "\n" + comment(source, n.pos) + "[[nat]]\n" + lines(keys);
}

std::string expect_table(const Expect& e, const std::string& source) {
  std::vector<std::string> keys = {"from = " + str(e.from.value)};
  keys.push_back("to = " + (e.to_address ? str_of(*e.to_address) : str(e.to.value)));
  keys.push_back(fmt::format("reach = {}", e.reach.value));
  keys.push_back("proto = " + str(to_string(e.proto.value)));
  if (e.port) keys.push_back(fmt::format("port = {}", e.port->value));
  keys.push_back(fmt::format("timeout = {}", e.timeout.value));
  return "\n" + comment(source, e.pos) + "[[expect]]\n" + lines(keys);
}

std::string filter_table(const Filter& f, const std::string& source) {
  std::vector<std::string> keys;
  if (f.netns.value != kHostNetns) keys.push_back("netns = " + str(f.netns.value));
  keys.push_back("chain = " + str(f.chain.value));
  keys.push_back("action = " + str(f.action.value));
  if (f.in) keys.push_back("in = " + negated(f.not_in, f.in->value));
  if (f.out) keys.push_back("out = " + negated(f.not_out, f.out->value));
  if (f.source) keys.push_back("source = " + negated(f.not_source, to_string(f.source->value)));
  if (f.destination) keys.push_back("destination = " + negated(f.not_destination, to_string(f.destination->value)));
  if (f.proto) keys.push_back("proto = " + str(f.proto->value));
  std::vector<std::string> ports;
  for (const auto& p : f.ports)
    ports.push_back(p.value.lo == p.value.hi ? std::to_string(p.value.lo)
                                             : str(fmt::format("{}-{}", p.value.lo, p.value.hi)));
  if (!ports.empty()) keys.push_back("port = " + list(ports));
  if (!f.state.empty()) keys.push_back("state = " + located_list(f.state));
  return "\n" + comment(source, f.pos) + "[[filter]]\n" + lines(keys);
}

}  // namespace

std::string lab_toml(const Lab& lab, const std::string& source) {
  std::string out = fmt::format("# {}, expanded by topo: primitives only\nlab = {}\n", source, str(lab.name.value));
  if (!lab.host_sysctls.empty() || !lab.host_limits.empty() || lab.host_policy.forward || lab.host_policy.input ||
      lab.host_policy.output) {
    out += "\n[host]\n";
    if (!lab.host_sysctls.empty()) out += sysctls(lab.host_sysctls);
    if (!lab.host_limits.empty()) out += sysctls(lab.host_limits, "limits");
    out += policy(lab.host_policy);
  }
  for (const Netns& n : lab.netns) out += netns_table(n, source);
  std::set<size_t> written;  // a veth is one table for its two ends
  for (size_t i = 0; i < lab.interfaces.size(); ++i) {
    if (const auto* v = std::get_if<VethEnd>(&lab.interfaces[i].spec)) {
      if (written.count(v->peer)) continue;
      written.insert(i);
    }
    out += link_table(lab, i, source);
  }
  for (const Route& r : lab.routes) out += route_table(r, source);
  for (const Nat& n : lab.nats) out += nat_table(n, source);
  for (const Expect& e : lab.expects) out += expect_table(e, source);
  for (const Filter& f : lab.filters) out += filter_table(f, source);
  return out;
}

}  // namespace topo
