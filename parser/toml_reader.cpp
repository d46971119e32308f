#include "parser/toml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "parser/fields.h"
#include "parser/names.h"
#include "parser/nesting.h"
#include "parser/shape.h"
#include "parser/suggest.h"

namespace topo {
namespace {

constexpr int64_t kMinMtu = 68;  // the least IPv4 allows; the kernel refuses less
constexpr int64_t kMaxMtu = 65535;
constexpr int64_t kMaxPid = 4194304;        // PID_MAX_LIMIT on 64-bit
constexpr size_t kMaxNameservers = 3;       // glibc reads no more (MAXNS)
constexpr int64_t kMaxCount = 65535;        // namespaces of one [[netns]] group
constexpr int64_t kMaxVni = (1 << 24) - 1;  // a VXLAN network identifier is 24 bits

// A port of 1-65535 written in decimal, nothing else.
std::optional<int64_t> port_number(std::string_view s) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  int64_t p = std::stoll(std::string(s));
  if (p < 1 || p > 65535) return std::nullopt;
  return p;
}

std::optional<Publish> parse_publish(std::string_view s) {
  Publish p;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view proto = s.substr(slash + 1);
    if (proto == "tcp")
      p.proto = Proto::tcp;
    else if (proto == "udp")
      p.proto = Proto::udp;
    else
      return std::nullopt;
    s = s.substr(0, slash);
  }
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto host = port_number(s.substr(0, colon)), inner = port_number(s.substr(colon + 1));
  if (!host || !inner) return std::nullopt;
  p.host_port = *host;
  p.port = *inner;
  return p;
}

template <class E>
using Choices = std::vector<std::pair<std::string_view, E>>;

// A string key that must be one of a few words.
template <class E>
std::optional<Located<E>> choice(Fields& f, std::string_view key, const Choices<E>& choices) {
  auto s = f.string(key);
  if (!s) return std::nullopt;
  std::vector<std::string_view> words;
  for (auto& [word, value] : choices) {
    if (word == s->value) return Located<E>{value, s->pos};
    words.push_back(word);
  }
  f.diags().error(s->pos,
                  fmt::format("'{}' in {} is {}; it must be one of {}{}", key, f.where(), quoted(s->value),
                              fmt::join(words, ", "), did_you_mean(s->value, words)),
                  width_of(*f.node(key)));
  return std::nullopt;
}

// A prefix that names a network, not a host on it: "10.0.0.0/24", not "10.0.0.1/24".
std::optional<Located<IpPrefix>> network(Fields& f, std::string_view key) {
  auto p = f.prefix(key);
  if (p && !p->value.is_network()) {
    IpPrefix fixed{p->value.network(), p->value.length};
    f.diags().error(
        p->pos,
        fmt::format("'{}' in {} is {}, which has host bits set (did you mean {}?)", key, f.where(), p->value, fixed),
        width_of(*f.node(key)));
    return std::nullopt;
  }
  return p;
}

// A namespace a link may be in: the lab's, or host.
std::string check_link_end(std::string_view s) { return s == kHostNetns ? "" : check_netns_name(s); }

// "netns = ..." on anything that lives in a namespace; "host" when absent.
Located<std::string> netns_ref(Fields& f) {
  if (auto s = f.string("netns")) return *s;
  return {std::string(kHostNetns), f.pos()};
}

void excludes(Fields& f, std::string_view a, std::string_view b, std::string_view why) {
  if (f.has(a) && f.has(b))
    f.diags().error(f.key_pos(b), fmt::format("'{}' and '{}' cannot both be set in {}: {}", a, b, f.where(), why),
                    static_cast<int>(b.size()));
}

// The array of tables at `key` ([[netns]] ...); any other shape is reported.
std::vector<const toml::table*> tables_of(const toml::table& root, std::string_view key, Diagnostics& d) {
  std::vector<const toml::table*> out;
  const toml::node* n = root.get(key);
  if (!n) return out;
  if (n->is_table()) {
    d.error(pos_of(*n), fmt::format("'{}' must be an array of tables: write [[{}]], not [{}]", key, key, key));
    return out;
  }
  if (!n->is_array()) {
    d.error(pos_of(*n), fmt::format("'{}' must be an array of tables ([[{}]]), not {}", key, key, type_name(*n)),
            width_of(*n));
    return out;
  }
  for (const toml::node& e : *n->as_array()) {
    if (const toml::table* t = e.as_table())
      out.push_back(t);
    else
      d.error(pos_of(e), fmt::format("each [[{}]] entry must be a table, not {}", key, type_name(e)), width_of(e));
  }
  return out;
}

// `policy = { forward = "drop" }` in [host] or [[netns]] ([host.policy], [netns.policy]).
void read_policy(Fields& f, FilterPolicy& out) {
  if (!f.has("policy")) return;
  const toml::table* t = f.table("policy");
  if (!t) return;
  Fields pf(*t, table_spec("policy"), f.where() + " policy", f.diags());
  static const Choices<std::string> verdicts = {{"accept", "accept"}, {"drop", "drop"}};
  out.forward = choice(pf, "forward", verdicts);
  out.input = choice(pf, "input", verdicts);
  out.output = choice(pf, "output", verdicts);
  pf.reject_unknown();
}

void read_sysctls(Fields& f, std::vector<Sysctl>& out) {
  const toml::table* t = f.table("sysctl");
  if (!t) return;
  Diagnostics& d = f.diags();
  for (auto&& [k, v] : *t) {
    SourcePos kpos = pos_of(k.source());
    int kwidth = static_cast<int>(k.str().size());
    if (v.is_table() && k.str().find('.') == std::string_view::npos) {
      // `sysctl.net.ipv4.ip_forward = 1` makes nested tables; the key must be quoted.
      d.error(kpos,
              fmt::format("sysctl {} in {} is a table; quote the whole key, as in "
                          "\"net.ipv4.ip_forward\" = 1",
                          quoted(k.str()), f.where()),
              kwidth);
      continue;
    }
    std::string why = check_sysctl_key(k.str());
    if (!why.empty()) {
      d.error(kpos, fmt::format("sysctl {} {}", quoted(k.str()), why), kwidth);
      continue;
    }
    std::string value;
    if (auto i = v.as_integer()) {
      value = std::to_string(i->get());
    } else if (auto s = v.as_string()) {
      value = s->get();
      why = check_sysctl_value(value);
      if (!why.empty()) {
        d.error(pos_of(v), fmt::format("value of sysctl '{}' {}", k.str(), why), width_of(v));
        continue;
      }
    } else {
      d.error(pos_of(v),
              fmt::format("value of sysctl '{}' must be an integer or a string, not {}{}", k.str(), type_name(v),
                          v.is_boolean() ? " (write 1 or 0)" : ""),
              width_of(v));
      continue;
    }
    out.push_back({{std::string(k.str()), kpos}, {value, pos_of(v)}, {}});
  }
}

// [host] limits: machine-wide keys (kMachineLimits), each a positive integer that the
// kernel's value is raised to at least. A key [host] sysctl sets exactly is not a limit too.
void read_limits(Fields& f, const std::vector<Sysctl>& sysctls, std::vector<Sysctl>& out) {
  const toml::table* t = f.table("limits");
  if (!t) return;
  Diagnostics& d = f.diags();
  std::vector<std::string_view> known(std::begin(kMachineLimits), std::end(kMachineLimits));
  for (auto&& [k, v] : *t) {
    SourcePos kpos = pos_of(k.source());
    int kwidth = static_cast<int>(k.str().size());
    if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
      d.error(kpos,
              fmt::format("{} is not a machine limit topo raises{}; the limits are {} (other keys go in "
                          "'sysctl')",
                          quoted(k.str()), did_you_mean(k.str(), known), fmt::join(known, ", ")),
              kwidth);
      continue;
    }
    auto i = v.as_integer();
    if (!i || i->get() < 1 || i->get() > INT32_MAX) {
      d.error(pos_of(v),
              fmt::format("limit '{}' must be an integer from 1 to 2147483647, not {}", k.str(),
                          i ? std::to_string(i->get()) : std::string(type_name(v))),
              width_of(v));
      continue;
    }
    for (const Sysctl& s : sysctls)
      if (s.key.value == k.str()) {
        d.error(kpos, fmt::format("'{}' is both a sysctl and a limit of [host]; keep one", k.str()), kwidth);
        d.note(s.key.pos, "the sysctl");
      }
    out.push_back({{std::string(k.str()), kpos}, {std::to_string(i->get()), pos_of(v)}, {}});
  }
}

void read_dns(Fields& f, Netns& ns) {
  const toml::node* n = f.node("dns");
  if (!n) return;
  if (!n->is_array()) {
    f.diags().error(pos_of(*n),
                    fmt::format("'dns' in {} must be an array of strings, not {}", f.where(), type_name(*n)),
                    width_of(*n));
    return;
  }
  for (const toml::node& e : *n->as_array()) {
    if (auto a = address_value(e, "dns entry", f.diags())) ns.dns.push_back(*a);
  }
  if (ns.dns.size() > kMaxNameservers)
    f.diags().error(ns.dns[kMaxNameservers].pos,
                    fmt::format("'dns' in {} lists {} nameservers; resolv.conf takes at most {} "
                                "(the resolver ignores the rest)",
                                f.where(), ns.dns.size(), kMaxNameservers));
}

void read_hosts(Fields& f, Netns& ns) {
  const toml::table* t = f.table("hosts");
  if (!t) return;
  Diagnostics& d = f.diags();
  for (auto&& [k, v] : *t) {
    HostsEntry entry{{std::string(k.str()), pos_of(k.source())}, {}};
    std::string why = check_hostname(k.str());
    if (!why.empty()) {
      d.error(entry.name.pos, fmt::format("host name {} {}", quoted(k.str()), why), static_cast<int>(k.str().size()));
      continue;
    }
    std::string what = fmt::format("address of host '{}'", k.str());
    if (const toml::array* list = v.as_array()) {
      if (list->empty()) d.error(pos_of(v), fmt::format("host '{}' has no address", k.str()), width_of(v));
      for (const toml::node& e : *list)
        if (auto a = address_value(e, what, d)) entry.addresses.push_back(*a);
    } else if (auto a = address_value(v, what, d)) {
      entry.addresses.push_back(*a);
    }
    if (!entry.addresses.empty()) ns.hosts.push_back(std::move(entry));
  }
}

// networks = ["front", { network = "back", address = "172.21.0.10/24", name = "eth5" }]
void read_memberships(Fields& f, Netns& ns) {
  const toml::node* n = f.node("networks");
  if (!n) return;
  if (!n->is_array()) {
    f.diags().error(
        pos_of(*n),
        fmt::format("'networks' in {} must be an array of network names or tables, not {}", f.where(), type_name(*n)),
        width_of(*n));
    return;
  }
  for (const toml::node& e : *n->as_array()) {
    Membership m;
    m.pos = pos_of(e);
    if (e.is_string()) {
      if (auto s = string_value(e, "network name", f.diags())) m.network = *s;
      ns.networks.push_back(std::move(m));
      continue;
    }
    const toml::table* t = e.as_table();
    if (!t) {
      f.diags().error(
          pos_of(e),
          fmt::format("each 'networks' entry in {} must be a network name or a table, not {}", f.where(), type_name(e)),
          width_of(e));
      continue;
    }
    Fields mf(*t, table_spec("[[netns]] networks entry"), f.where() + " networks entry", f.diags());
    auto net = mf.string("network");
    if (!net && !mf.has("network")) mf.missing("network");
    if (mf.has("address")) {
      if (auto a = interface_address_value(*mf.node("address"), f.diags())) m.address = *a;
    }
    if (mf.has("name")) m.name = mf.interface_name("name");
    m.shape = read_shape(mf);
    mf.reject_unknown();
    if (!net) continue;
    m.network = *net;
    ns.networks.push_back(std::move(m));
  }
}

// publish = ["8080:80", "5353:53/udp"]: Docker's -p HOSTPORT:PORT[/PROTO].
void read_publish(Fields& f, Netns& ns) {
  const toml::node* n = f.node("publish");
  if (!n) return;
  if (!n->is_array()) {
    f.diags().error(pos_of(*n),
                    fmt::format("'publish' in {} must be an array of strings, not {}", f.where(), type_name(*n)),
                    width_of(*n));
    return;
  }
  for (const toml::node& e : *n->as_array()) {
    auto s = string_value(e, "'publish' entry", f.diags());
    if (!s) continue;
    if (auto p = parse_publish(s->value)) {
      ns.publish.push_back({*p, s->pos});
      continue;
    }
    f.diags().error(s->pos,
                    fmt::format("'publish' entry {} in {} is not HOSTPORT:PORT or HOSTPORT:PORT/PROTO (ports 1-65535, "
                                "PROTO tcp or udp), like \"8080:80\" or \"5353:53/udp\"",
                                quoted(s->value), f.where()),
                    width_of(e));
  }
}

Netns read_netns(const toml::table& t, Diagnostics& d) {
  Fields f(t, table_spec("[[netns]]"), "[[netns]]", d);
  Netns ns;
  ns.pos = f.pos();
  if (auto name = f.string("name")) {
    std::string why = check_netns_name(name->value);
    if (why.empty())
      f.set_where(fmt::format("[[netns]] '{}'", name->value));
    else
      d.error(name->pos, fmt::format("netns name {} {}", quoted(name->value), why), width_of(*f.node("name")));
    ns.name = *name;
  } else if (!f.has("name")) {
    f.missing("name");
  }
  ns.pid = f.integer("pid", 1, kMaxPid);
  if (auto path = f.string("path")) {
    std::string why = check_ns_path(path->value);
    if (why.empty())
      ns.path = path;
    else
      d.error(path->pos, fmt::format("path {} {}", quoted(path->value), why), width_of(*f.node("path")));
  }
  excludes(f, "pid", "path", "a namespace is adopted by one or the other");
  read_sysctls(f, ns.sysctls);
  read_policy(f, ns.policy);
  read_dns(f, ns);
  read_hosts(f, ns);
  read_memberships(f, ns);
  read_publish(f, ns);
  ns.count = f.integer("count", 1, kMaxCount);
  ns.machine = f.string("machine");
  if (ns.count) {
    for (std::string_view key : {"publish", "pid", "path"})
      if (f.has(key))
        d.error(f.key_pos(key),
                fmt::format("'{}' cannot be set with 'count' in {}: each of the group's namespaces would have the "
                            "same one",
                            key, f.where()),
                static_cast<int>(key.size()));
  }
  f.reject_unknown();
  return ns;
}

// What every link table shares. False when the link has no usable name.
bool read_link(Fields& f, Interface& link, std::string_view title) {
  link.pos = f.pos();
  link.netns = netns_ref(f);
  auto name = f.interface_name("name");
  if (!name && !f.has("name")) f.missing("name");
  if (name) {
    link.name = *name;
    if (f.where() == title) f.set_where(fmt::format("{} '{}'", title, name->value));
  }
  link.addresses = f.addresses("addresses");
  link.mtu = f.integer("mtu", kMinMtu, kMaxMtu);
  link.mac = f.mac("mac");
  if (auto b = f.boolean("link_local")) link.link_local = b->value;
  if (f.has("master") && f.accepts("master")) link.master = f.interface_name("master");
  link.where = f.where();
  return name.has_value();
}

void read_bridge(const toml::table& t, Lab& lab, Diagnostics& d) {
  Fields f(t, table_spec("[[bridge]]"), "[[bridge]]", d);
  Interface link;
  Bridge b;
  if (const toml::node* n = f.node("isolate"); n && n->is_array()) {
    for (const toml::node& e : *n->as_array())
      if (auto name = string_value(e, "'isolate' entry in [[bridge]]", d)) b.isolate_from.push_back(*name);
  } else if (auto iso = f.boolean("isolate")) {
    b.isolate = iso->value;
  }
  link.spec = b;
  bool ok = read_link(f, link, "[[bridge]]");
  f.reject_unknown();
  if (ok) lab.interfaces.push_back(std::move(link));
}

std::optional<Interface> read_veth_end(Fields& veth, char end, Diagnostics& d) {
  std::string key(1, end);
  if (!veth.has(key)) {
    veth.missing(key);
    return std::nullopt;
  }
  const toml::table* t = veth.table(key);
  if (!t) return std::nullopt;
  Fields f(*t, table_spec("[[veth]] end"), fmt::format("[[veth]] end '{}'", end), d);
  Interface link;
  bool ok = read_link(f, link, "");
  link.shape = read_shape(f);
  f.reject_unknown();
  if (!ok) return std::nullopt;
  link.spec = VethEnd{0, end};
  return link;
}

void read_veth(const toml::table& t, Lab& lab, Diagnostics& d) {
  Fields f(t, table_spec("[[veth]]"), "[[veth]]", d);
  auto a = read_veth_end(f, 'a', d);
  auto b = read_veth_end(f, 'b', d);
  auto mtu = f.integer("mtu", kMinMtu, kMaxMtu);
  f.reject_unknown();
  if (!a || !b) {
    // The lab is not used, but the usable end still takes its name: a duplicate of it is
    // reported along with the other end's error, not after it is fixed.
    for (auto* end : {&a, &b}) {
      if (!*end) continue;
      std::get<VethEnd>((*end)->spec).peer = lab.interfaces.size();
      lab.interfaces.push_back(std::move(**end));
    }
    return;
  }
  // The pair's mtu is each end's unless the end sets its own.
  if (!a->mtu) a->mtu = mtu;
  if (!b->mtu) b->mtu = mtu;
  size_t ia = lab.interfaces.size();
  std::get<VethEnd>(a->spec).peer = ia + 1;
  std::get<VethEnd>(b->spec).peer = ia;
  lab.interfaces.push_back(std::move(*a));
  lab.interfaces.push_back(std::move(*b));
}

// remotes = ["192.0.2.2", "192.0.2.3"]: unicast addresses, each once, kept sorted (the
// kernel's forwarding database has no order).
void read_remotes(Fields& f, Vxlan& v) {
  const toml::node* n = f.node("remotes");
  if (!n) return;
  if (!n->is_array() || n->as_array()->empty()) {
    f.diags().error(pos_of(*n), fmt::format("'remotes' in {} must be a non-empty array of addresses", f.where()),
                    width_of(*n));
    return;
  }
  for (const toml::node& e : *n->as_array()) {
    auto a = address_value(e, "remotes entry", f.diags());
    if (!a) continue;
    if (a->value.is_multicast() || a->value.is_unspecified()) {
      f.diags().error(a->pos, fmt::format("each of 'remotes' in {} must be a unicast address", f.where()), width_of(e));
      continue;
    }
    for (const auto& seen : v.remotes)
      if (seen.value == a->value) {
        f.diags().error(a->pos, fmt::format("{} is in 'remotes' of {} twice", a->value, f.where()), width_of(e));
        f.diags().note(seen.pos, "first here");
      }
    v.remotes.push_back(*a);
  }
  for (const auto& r : v.remotes)
    if (r.value.family != v.remotes.front().value.family) {
      f.diags().error(
          r.pos, fmt::format("'remotes' of {} mixes {} and {} addresses: a VXLAN floods over one family", f.where(),
                             family_name(v.remotes.front().value.family), family_name(r.value.family)));
      break;
    }
  std::sort(v.remotes.begin(), v.remotes.end(), [](const auto& a, const auto& b) { return a.value < b.value; });
}

void check_vxlan_addresses(Fields& f, const Vxlan& v) {
  Diagnostics& d = f.diags();
  if (!f.has("remote") && !f.has("group") && !f.has("remotes"))
    f.diags().error(f.pos(), fmt::format("{} needs 'remote' (a unicast peer), 'remotes' (several) or 'group' (a "
                                         "multicast group)",
                                         f.where()));
  excludes(f, "remote", "group", "a VXLAN has a unicast peer or a multicast group");
  excludes(f, "remote", "remotes", "one peer is 'remote', several are 'remotes'");
  excludes(f, "group", "remotes", "a VXLAN floods to a multicast group or to unicast peers");
  for (const auto& r : v.remotes)
    if (v.local && v.local->value.family != r.value.family)
      d.error(r.pos, fmt::format("'remotes' entry {} is {} but 'local' {} is {}", r.value, family_name(r.value.family),
                                 v.local->value, family_name(v.local->value.family)));
  if (v.remote && (v.remote->value.is_multicast() || v.remote->value.is_unspecified()))
    d.error(v.remote->pos, fmt::format("'remote' in {} must be a unicast address; for a "
                                       "multicast address use 'group'",
                                       f.where()));
  if (v.group && !v.group->value.is_multicast())
    d.error(v.group->pos, fmt::format("'group' in {} must be a multicast address; for a "
                                      "single peer use 'remote'",
                                      f.where()));
  if (v.group && !v.dev)
    d.error(v.group->pos, fmt::format("'group' in {} needs 'dev', the underlay interface to "
                                      "join the group on",
                                      f.where()));
  if (v.local && (v.local->value.is_multicast() || v.local->value.is_unspecified()))
    d.error(v.local->pos, fmt::format("'local' in {} must be a unicast address", f.where()));
  const auto& peer = v.remote ? v.remote : v.group;
  if (v.local && peer && v.local->value.family != peer->value.family)
    d.error(peer->pos,
            fmt::format("'{}' {} is {} but 'local' {} is {}", v.remote ? "remote" : "group", peer->value,
                        family_name(peer->value.family), v.local->value, family_name(v.local->value.family)));
}

void read_vxlan(const toml::table& t, Lab& lab, Diagnostics& d) {
  Fields f(t, table_spec("[[vxlan]]"), "[[vxlan]]", d);
  Interface link;
  bool ok = read_link(f, link, "[[vxlan]]");
  Vxlan v;
  if (auto id = f.integer("id", 0, (1 << 24) - 1))
    v.id = *id;
  else if (!f.has("id"))
    f.missing("id");
  v.local = f.address("local");
  v.remote = f.address("remote");
  v.group = f.address("group");
  read_remotes(f, v);
  if (f.has("dev")) v.dev = f.interface_name("dev");
  if (auto u = f.string("underlay_netns")) {
    if (std::string why = check_link_end(u->value); why.empty())
      v.underlay_netns = *u;
    else
      d.error(u->pos, fmt::format("underlay_netns {} {}", quoted(u->value), why), width_of(*f.node("underlay_netns")));
  }
  if (auto port = f.integer("port", 1, 65535)) v.port = *port;
  check_vxlan_addresses(f, v);
  f.reject_unknown();
  link.spec = std::move(v);
  if (ok) lab.interfaces.push_back(std::move(link));
}

void read_macvlan(const toml::table& t, Lab& lab, Diagnostics& d) {
  static const Choices<MacvlanMode> modes = {{"bridge", MacvlanMode::bridge},
                                             {"private", MacvlanMode::private_},
                                             {"vepa", MacvlanMode::vepa},
                                             {"passthru", MacvlanMode::passthru}};
  Fields f(t, table_spec("[[macvlan]]"), "[[macvlan]]", d);
  Interface link;
  bool ok = read_link(f, link, "[[macvlan]]");
  Macvlan m;
  if (auto parent = f.interface_name("parent"))
    m.parent = *parent;
  else if (!f.has("parent"))
    f.missing("parent");
  if (auto pns = f.string("parent_netns")) m.parent_netns = *pns;
  if (auto mode = choice(f, "mode", modes)) m.mode = mode->value;
  f.reject_unknown();
  link.spec = std::move(m);
  if (ok) lab.interfaces.push_back(std::move(link));
}

// "default", or a network prefix; the default's family follows `via` when there is one.
std::optional<Located<IpPrefix>> route_to(Fields& f, const std::optional<Located<IpAddress>>& via) {
  const toml::node* n = f.node("to");
  if (!n) {
    f.missing("to");
    return std::nullopt;
  }
  if (n->is_string() && n->as_string()->get() == "default") {
    IpPrefix any;
    if (via) any.address.family = via->value.family;
    return Located<IpPrefix>{any, pos_of(*n)};
  }
  return network(f, "to");
}

// via = "10.0.0.1", or a list of gateways for a multipath route (one alone is `via`).
void read_gateways(Fields& f, Route& r) {
  const toml::node* n = f.node("via");
  if (!n || !n->is_array()) {
    r.via = f.address("via");
    return;
  }
  for (const toml::node& e : *n->as_array())
    if (auto a = address_value(e, "'via' entry", f.diags())) {
      auto same =
          std::find_if(r.multipath.begin(), r.multipath.end(), [&](const auto& g) { return g.value == a->value; });
      if (same == r.multipath.end()) {
        r.multipath.push_back(*a);
        continue;
      }
      f.diags().error(a->pos, fmt::format("gateway {} is listed twice", a->value), width_of(e));
      f.diags().note(same->pos, "first listed here");
    }
  if (n->as_array()->empty()) f.diags().error(pos_of(*n), "'via' lists no gateway", width_of(*n));
  if (r.multipath.size() == 1) r.via = r.multipath.front();
  if (r.multipath.size() < 2) r.multipath.clear();
  std::sort(r.multipath.begin(), r.multipath.end(), [](const auto& a, const auto& b) { return a.value < b.value; });
  if (!r.multipath.empty() && f.has("dev"))
    f.diags().error(f.key_pos("dev"), "a route over several gateways takes no 'dev': the kernel finds each one's link");
}

void read_route(const toml::table& t, Lab& lab, Diagnostics& d) {
  Fields f(t, table_spec("[[route]]"), "[[route]]", d);
  Route r;
  r.pos = f.pos();
  r.netns = netns_ref(f);
  read_gateways(f, r);
  if (f.has("dev") && r.multipath.empty()) r.dev = f.interface_name("dev");
  r.metric = f.integer("metric", 0, 4294967295LL);
  auto to = route_to(f, r.gateways().empty() ? std::nullopt : std::optional(*r.gateways().front()));
  if (!f.has("via") && !f.has("dev")) d.error(r.pos, "[[route]] needs 'via', 'dev' or both");
  for (const Located<IpAddress>* g : r.gateways()) {
    if (to && to->value.address.family != g->value.family)
      d.error(g->pos, fmt::format("'via' {} is {} but 'to' {} is {}", g->value, family_name(g->value.family), to->value,
                                  family_name(to->value.address.family)));
    if (g->value.is_link_local() && !f.has("dev"))
      d.error(g->pos, fmt::format("'via' {} is link-local: the route needs 'dev' too", g->value));
    if (g->value.is_multicast() || g->value.is_unspecified())
      d.error(g->pos, fmt::format("'via' {} cannot be a gateway", g->value));
  }
  f.reject_unknown();
  if (to) {
    r.to = *to;
    lab.routes.push_back(std::move(r));
  }
}

// dnat's "10.0.0.2:80", "[fd00::2]:80", "10.0.0.2" or "fd00::2".
bool read_dnat_to(Fields& f, Nat& nat) {
  auto s = f.string("to");
  if (!s) return false;
  std::string addr = s->value, port;
  if (!addr.empty() && addr[0] == '[') {
    auto close = addr.find(']');
    if (close != std::string::npos && close + 1 < addr.size() && addr[close + 1] == ':') {
      port = addr.substr(close + 2);
      addr = addr.substr(1, close - 1);
    }
  } else if (std::count(addr.begin(), addr.end(), ':') == 1) {
    port = addr.substr(addr.find(':') + 1);
    addr = addr.substr(0, addr.find(':'));
  }
  auto ip = parse_ip(addr);
  int64_t p = 0;
  bool port_ok = port.empty() || (port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos &&
                                  (p = std::stoll(port)) >= 1 && p <= 65535);
  if (!ip || !port_ok || ip->is_unspecified() || ip->is_multicast()) {
    f.diags().error(s->pos,
                    fmt::format("'to' in {} is {}; it must be an address with an optional port, "
                                "like 10.0.0.2:80 or [fd00::2]:80",
                                f.where(), quoted(s->value)),
                    width_of(*f.node("to")));
    return false;
  }
  nat.to = Located<IpAddress>{*ip, s->pos};
  if (!port.empty()) nat.to_port = Located<int64_t>{p, s->pos};
  return true;
}

// Which keys each kind of rule takes, besides netns and kind.
const std::vector<std::string_view>& nat_keys(NatKind k) {
  static const std::vector<std::string_view> masquerade = {"source", "out"};
  static const std::vector<std::string_view> snat = {"source", "out", "to"};
  static const std::vector<std::string_view> dnat = {"proto", "port", "to", "in"};
  return k == NatKind::masquerade ? masquerade : k == NatKind::snat ? snat : dnat;
}

void reject_keys_of_other_kinds(Fields& f, NatKind kind) {
  const auto& mine = nat_keys(kind);
  for (std::string_view key : table_spec("[[nat]]").key_names()) {
    if (key == "netns" || key == "kind" || !f.has(key)) continue;
    if (std::find(mine.begin(), mine.end(), key) != mine.end()) continue;
    std::vector<std::string> takers;
    for (NatKind k : {NatKind::masquerade, NatKind::snat, NatKind::dnat}) {
      const auto& keys = nat_keys(k);
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) takers.emplace_back(to_string(k));
    }
    f.diags().error(
        f.key_pos(key),
        fmt::format("'{}' does not apply to a {} rule (only to {})", key, to_string(kind), fmt::join(takers, " and ")),
        static_cast<int>(key.size()));
  }
}

// "!eth0" -> ("eth0", true).
std::pair<std::string, bool> negation(std::string s) {
  if (!s.empty() && s[0] == '!') return {s.substr(1), true};
  return {s, false};
}

// `out = "eth0"`, or `out = "!eth0"` for every interface but eth0 (Docker's `! -o docker0`),
// as in [[filter]]; the name after the '!' is checked as an interface name.
void read_nat_name(Fields& f, std::string_view key, std::optional<Located<std::string>>& into, bool& negated) {
  auto s = f.string(key);
  if (!s) return;
  auto [name, neg] = negation(s->value);
  std::string why = check_interface_name(name);
  if (neg && name.empty())
    f.diags().error(s->pos,
                    fmt::format("'{}' in {} is '!' without an interface name after it ('!eth0' is every "
                                "interface but eth0)",
                                key, f.where()),
                    width_of(*f.node(key)));
  else if (!why.empty())
    f.diags().error(s->pos, fmt::format("interface name {} {}", quoted(name), why), width_of(*f.node(key)));
  if (!why.empty()) return;
  into = Located<std::string>{name, s->pos};
  negated = neg;
}

void read_nat_fields(Fields& f, Nat& nat) {
  static const Choices<Proto> protos = {{"tcp", Proto::tcp}, {"udp", Proto::udp}};
  Diagnostics& d = f.diags();
  NatKind kind = nat.kind.value;
  reject_keys_of_other_kinds(f, kind);
  if (kind != NatKind::dnat) {
    nat.source = network(f, "source");
    read_nat_name(f, "out", nat.out, nat.not_out);
  }
  if (kind == NatKind::masquerade && !f.has("source") && !f.has("out"))
    d.error(f.pos(),
            "a masquerade rule needs 'source', 'out' or both; without them it would "
            "rewrite every connection");
  if (kind == NatKind::snat) {
    nat.to = f.address("to");
    if (!f.has("to")) f.missing("to");
    if (!f.has("source")) f.missing("source");
  }
  if (kind == NatKind::dnat) {
    nat.proto = choice(f, "proto", protos);
    nat.port = f.integer("port", 1, 65535);
    read_nat_name(f, "in", nat.in, nat.not_in);
    for (std::string_view key : {"proto", "port", "to"})
      if (!f.has(key)) f.missing(key);
    read_dnat_to(f, nat);
  }
  if (nat.source && nat.to && nat.source->value.address.family != nat.to->value.family)
    d.error(nat.to->pos,
            fmt::format("'to' {} is {} but 'source' {} is {}", nat.to->value, family_name(nat.to->value.family),
                        nat.source->value, family_name(nat.source->value.address.family)));
}

void read_nat(const toml::table& t, Lab& lab, Diagnostics& d) {
  static const Choices<NatKind> kinds = {
      {"masquerade", NatKind::masquerade}, {"snat", NatKind::snat}, {"dnat", NatKind::dnat}};
  Fields f(t, table_spec("[[nat]]"), "[[nat]]", d);
  Nat nat;
  nat.pos = f.pos();
  nat.netns = netns_ref(f);
  auto kind = choice(f, "kind", kinds);
  if (!f.has("kind")) f.missing("kind");
  if (kind) {
    nat.kind = *kind;
    f.set_where(fmt::format("[[nat]] {}", to_string(kind->value)));
    read_nat_fields(f, nat);
  }
  f.reject_unknown();
  if (kind) lab.nats.push_back(std::move(nat));
}

constexpr double kMinProbeTimeout = 0.1;
constexpr double kMaxProbeTimeout = 60;

// "timeout = 2" or "timeout = 0.5": seconds, within the range a test run can wait.
std::optional<Located<double>> seconds(Fields& f, std::string_view key) {
  const toml::node* n = f.node(key);
  if (!n) return std::nullopt;
  double v = 0;
  if (auto i = n->as_integer())
    v = static_cast<double>(i->get());
  else if (auto x = n->as_floating_point())
    v = x->get();
  else {
    f.diags().error(pos_of(*n),
                    fmt::format("'{}' in {} must be a number of seconds, not {}", key, f.where(), type_name(*n)),
                    width_of(*n));
    return std::nullopt;
  }
  if (!(v >= kMinProbeTimeout && v <= kMaxProbeTimeout)) {
    f.diags().error(pos_of(*n),
                    fmt::format("'{}' in {} is {} seconds; it must be between {} and {}", key, f.where(), v,
                                kMinProbeTimeout, kMaxProbeTimeout),
                    width_of(*n));
    return std::nullopt;
  }
  return Located<double>{v, pos_of(*n)};
}

void read_expect(const toml::table& t, Lab& lab, Diagnostics& d) {
  static const Choices<ProbeProto> protos = {
      {"icmp", ProbeProto::icmp}, {"tcp", ProbeProto::tcp}, {"udp", ProbeProto::udp}};
  Fields f(t, table_spec("[[expect]]"), "[[expect]]", d);
  Expect e;
  e.pos = f.pos();
  auto from = f.string("from");
  if (!from && !f.has("from")) f.missing("from");
  auto to = f.string("to");
  if (!to && !f.has("to")) f.missing("to");
  if (from && to) f.set_where(fmt::format("[[expect]] {} -> {}", from->value, to->value));
  bool ok = from && to;
  if (to) {
    e.to = *to;
    // An address, or else a namespace name (which the validator checks against the lab).
    if (auto ip = parse_ip(to->value)) {
      if (ip->is_multicast() || ip->is_unspecified()) {
        d.error(to->pos, fmt::format("'to' in {} is {}: a probe needs a unicast address", f.where(), to->value),
                width_of(*f.node("to")));
        ok = false;
      }
      e.to_address = *ip;
    }
  }
  if (const toml::node* n = f.node("reach")) {
    if (auto b = n->as_boolean())
      e.reach = {b->get(), pos_of(*n)};
    else {
      d.error(pos_of(*n), fmt::format("'reach' in {} must be true or false, not {}", f.where(), type_name(*n)),
              width_of(*n));
      ok = false;
    }
  } else {
    f.missing("reach");
    ok = false;
  }
  bool proto_known = true;
  if (f.has("proto")) {
    if (auto p = choice(f, "proto", protos))
      e.proto = *p;
    else
      ok = proto_known = false;
  }
  if (!proto_known) {
    // Whether a port belongs here depends on the protocol, which is not known.
  } else if (e.proto.value == ProbeProto::icmp) {
    if (f.has("port"))
      d.error(f.key_pos("port"),
              fmt::format("'port' in {} needs proto = \"tcp\" or \"udp\": an icmp echo has no "
                          "port",
                          f.where()),
              4);
  } else {
    e.port = f.integer("port", 1, 65535);
    if (!f.has("port")) f.missing("port");
    if (!e.port) ok = false;
  }
  if (auto s = seconds(f, "timeout"))
    e.timeout = *s;
  else if (f.has("timeout"))
    ok = false;
  f.reject_unknown();
  if (!ok) return;
  e.from = *from;
  lab.expects.push_back(std::move(e));
}

void read_filter_name(Fields& f, std::string_view key, std::optional<Located<std::string>>& into, bool& negated) {
  auto s = f.string(key);
  if (!s) return;
  auto [name, neg] = negation(s->value);
  std::string why = check_interface_name(name);
  if (!why.empty()) {
    f.diags().error(
        s->pos,
        fmt::format("'{}' in {} is {}: interface name {}{}", key, f.where(), quoted(s->value), quoted(name), " " + why),
        width_of(*f.node(key)));
    return;
  }
  into = Located<std::string>{name, s->pos};
  negated = neg;
}

void read_filter_prefix(Fields& f, std::string_view key, std::optional<Located<IpPrefix>>& into, bool& negated) {
  auto s = f.string(key);
  if (!s) return;
  auto [text, neg] = negation(s->value);
  auto p = parse_prefix(text);
  if (!p) {
    f.diags().error(s->pos,
                    fmt::format("'{}' in {} is {}, which is not a prefix like 10.0.0.0/24, fd00::/64 or "
                                "!192.168.1.0/24",
                                key, f.where(), quoted(s->value)),
                    width_of(*f.node(key)));
    return;
  }
  if (!p->is_network()) {
    f.diags().error(s->pos,
                    fmt::format("'{}' in {} is {}, which has host bits set (did you mean {}{}?)", key, f.where(), *p,
                                neg ? "!" : "", IpPrefix{p->network(), p->length}),
                    width_of(*f.node(key)));
    return;
  }
  into = Located<IpPrefix>{*p, s->pos};
  negated = neg;
}

// One element of `port`: 80 or "1000-2000".
std::optional<Located<PortRange>> port_value(Fields& f, const toml::node& n) {
  auto bad = [&](const std::string& what) {
    f.diags().error(
        pos_of(n),
        fmt::format("'port' in {} is {}; a port is an integer 1-65535 or a range like \"1000-2000\"", f.where(), what),
        width_of(n));
    return std::nullopt;
  };
  if (auto i = n.as_integer()) {
    int64_t v = i->get();
    if (v < 1 || v > 65535) return bad(std::to_string(v));
    return Located<PortRange>{{v, v}, pos_of(n)};
  }
  if (auto s = n.as_string()) {
    std::string t = s->get();
    auto dash = t.find('-');
    auto number = [](const std::string& x) -> int64_t {
      if (x.empty() || x.size() > 5 || x.find_first_not_of("0123456789") != std::string::npos) return -1;
      return std::stoll(x);
    };
    int64_t lo = number(t.substr(0, dash)), hi = dash == std::string::npos ? lo : number(t.substr(dash + 1));
    if (lo < 1 || hi < 1 || lo > 65535 || hi > 65535) return bad(quoted(t));
    if (lo > hi) return bad(quoted(t) + ", whose first port is above its last");
    return Located<PortRange>{{lo, hi}, pos_of(n)};
  }
  return bad(std::string(type_name(n)));
}

void read_filter(const toml::table& t, Lab& lab, Diagnostics& d) {
  static const Choices<std::string> chains = {{"forward", "forward"}, {"input", "input"}, {"output", "output"}};
  static const Choices<std::string> actions = {{"accept", "accept"}, {"drop", "drop"}, {"reject", "reject"}};
  static const Choices<std::string> protos = {{"tcp", "tcp"}, {"udp", "udp"}, {"icmp", "icmp"}, {"icmpv6", "icmpv6"}};
  static const std::vector<std::string_view> states = {"established", "related", "new"};
  Fields f(t, table_spec("[[filter]]"), "[[filter]]", d);
  Filter r;
  r.pos = f.pos();
  r.netns = netns_ref(f);
  auto chain = choice(f, "chain", chains);
  auto action = choice(f, "action", actions);
  for (std::string_view key : {"chain", "action"})
    if (!f.has(key)) f.missing(key);
  read_filter_name(f, "in", r.in, r.not_in);
  read_filter_name(f, "out", r.out, r.not_out);
  read_filter_prefix(f, "source", r.source, r.not_source);
  read_filter_prefix(f, "destination", r.destination, r.not_destination);
  r.proto = choice(f, "proto", protos);
  if (const toml::node* n = f.node("port")) {
    if (auto a = n->as_array()) {
      if (a->empty()) d.error(pos_of(*n), fmt::format("'port' in {} is an empty list", f.where()), width_of(*n));
      for (const toml::node& e : *a)
        if (auto p = port_value(f, e)) r.ports.push_back(*p);
    } else if (auto p = port_value(f, *n)) {
      r.ports.push_back(*p);
    }
    if (r.proto && r.proto->value != "tcp" && r.proto->value != "udp")
      d.error(f.key_pos("port"), fmt::format("'port' in {} needs proto tcp or udp, not {}", f.where(), r.proto->value),
              4);
    else if (!f.has("proto"))
      d.error(f.key_pos("port"), fmt::format("'port' in {} needs 'proto' (tcp or udp)", f.where()), 4);
  }
  if (const toml::node* n = f.node("state")) {
    std::vector<const toml::node*> items;
    if (auto a = n->as_array())
      for (const toml::node& e : *a) items.push_back(&e);
    else
      items.push_back(n);
    if (items.empty()) d.error(pos_of(*n), fmt::format("'state' in {} is an empty list", f.where()), width_of(*n));
    for (const toml::node* e : items) {
      auto s = string_value(*e, "'state' in " + f.where(), d);
      if (!s) continue;
      if (std::find(states.begin(), states.end(), s->value) == states.end()) {
        d.error(s->pos,
                fmt::format("'state' in {} has {}; it must be established, related or new{}", f.where(),
                            quoted(s->value), did_you_mean(s->value, states)),
                width_of(*e));
        continue;
      }
      r.state.push_back(*s);
    }
  }
  auto fam = [](const std::optional<Located<IpPrefix>>& p) { return p->value.address.family; };
  if (r.source && r.destination && fam(r.source) != fam(r.destination))
    d.error(r.destination->pos,
            fmt::format("'destination' {} is {} but 'source' {} is {}", r.destination->value,
                        family_name(fam(r.destination)), r.source->value, family_name(fam(r.source))));
  for (auto* p : {&r.source, &r.destination}) {
    if (!*p || !r.proto) continue;
    if ((r.proto->value == "icmp" && fam(*p) == Family::v6) || (r.proto->value == "icmpv6" && fam(*p) == Family::v4))
      d.error(r.proto->pos, fmt::format("'proto' {} in {} does not go with the {} prefix {}", r.proto->value, f.where(),
                                        family_name(fam(*p)), (*p)->value));
  }
  if (chain && chain->value == "input" && r.out)
    d.error(f.key_pos("out"),
            "'out' does not apply to the input chain: packets for the namespace itself have no output interface", 3);
  if (chain && chain->value == "output" && r.in)
    d.error(f.key_pos("in"),
            "'in' does not apply to the output chain: packets the namespace makes have no input interface", 2);
  f.reject_unknown();
  if (chain && action) {
    r.chain = *chain;
    r.action = *action;
    lab.filters.push_back(std::move(r));
  }
}

// subnets = ["172.20.0.0/24", "fd00:20::/64"]: networks, at most one of each family.
// The same shape under another key: [addressing] p2p, the pools of links' subnets.
std::vector<Located<IpPrefix>> read_subnets(Fields& f, std::string_view key = "subnets") {
  std::vector<Located<IpPrefix>> out;
  const toml::node* n = f.node(key);
  if (!n) {
    f.missing(key);
    return out;
  }
  if (!n->is_array() || n->as_array()->empty()) {
    f.diags().error(pos_of(*n),
                    fmt::format("'{}' in {} must be a non-empty array of subnets, like "
                                "[\"172.20.0.0/24\"]",
                                key, f.where()),
                    width_of(*n));
    return out;
  }
  for (const toml::node& e : *n->as_array()) {
    auto s = string_value(e, "subnet", f.diags());
    if (!s) continue;
    auto parsed = parse_prefix(s->value);
    if (!parsed) {
      f.diags().error(s->pos,
                      fmt::format("subnet {} in {} is not a subnet like 172.20.0.0/24 or fd00:20::/64",
                                  quoted(s->value), f.where()),
                      width_of(e));
      continue;
    }
    std::optional<Located<IpPrefix>> p = Located<IpPrefix>{*parsed, s->pos};
    if (!p->value.is_network()) {
      f.diags().error(p->pos,
                      fmt::format("subnet {} in {} has host bits set (did you mean {}?)", p->value, f.where(),
                                  IpPrefix{p->value.network(), p->value.length}),
                      width_of(e));
      continue;
    }
    bool twice = std::any_of(out.begin(), out.end(),
                             [&](const auto& o) { return o.value.address.family == p->value.address.family; });
    if (twice) {
      f.diags().error(p->pos,
                      fmt::format("{} has a second {} subnet, {}; it takes at most one of each family", f.where(),
                                  family_name(p->value.address.family), p->value),
                      width_of(e));
      continue;
    }
    out.push_back(*p);
  }
  return out;
}

void read_network(const toml::table& t, Lab& lab, Diagnostics& d) {
  Fields f(t, table_spec("[[network]]"), "[[network]]", d);
  Network n;
  n.pos = f.pos();
  auto name = f.string("name");
  if (name) {
    std::string why = check_lab_name(name->value);
    if (why.empty())
      f.set_where(fmt::format("[[network]] '{}'", name->value));
    else
      d.error(name->pos, fmt::format("network name {} {}", quoted(name->value), why), width_of(*f.node("name")));
    n.name = *name;
  } else if (!f.has("name")) {
    f.missing("name");
  }
  n.subnets = read_subnets(f);
  if (auto b = f.boolean("masquerade")) n.masquerade = b->value;
  if (auto b = f.boolean("isolate")) n.isolate = b->value;
  if (auto b = f.boolean("gateway")) n.gateway = b->value;
  n.netns = netns_ref(f);
  if (f.has("bridge")) n.bridge = f.interface_name("bridge");
  n.mtu = f.integer("mtu", kMinMtu, kMaxMtu);
  n.machine = f.string("machine");
  n.vni = f.integer("vni", 1, kMaxVni);
  f.reject_unknown();
  if (name) lab.networks.push_back(std::move(n));
}

// ends = ["leaf1", "spine1"], names = ["up1", "down1"]: exactly two strings, each checked.
std::vector<Located<std::string>> two_strings(Fields& f, std::string_view key, std::string_view what,
                                              std::string (*check)(std::string_view)) {
  std::vector<Located<std::string>> out;
  const toml::node* n = f.node(key);
  if (!n) return out;
  if (!n->is_array() || n->as_array()->size() != 2) {
    f.diags().error(pos_of(*n), fmt::format("'{}' in {} must be an array of two {}s", key, f.where(), what),
                    width_of(*n));
    return out;
  }
  for (const toml::node& e : *n->as_array()) {
    auto s = string_value(e, fmt::format("each '{}' entry", key), f.diags());
    if (!s) continue;
    if (std::string why = check(s->value); !why.empty()) {
      f.diags().error(s->pos, fmt::format("{} {} {}", what, quoted(s->value), why), width_of(e));
      continue;
    }
    out.push_back(*s);
  }
  if (out.size() != 2) out.clear();
  return out;
}

void read_link(const toml::table& t, Lab& lab, Diagnostics& d) {
  Fields f(t, table_spec("[[link]]"), "[[link]]", d);
  Link l;
  l.pos = f.pos();
  l.ends = two_strings(f, "ends", "namespace name", check_link_end);
  if (!f.has("ends")) f.missing("ends");
  if (l.ends.size() == 2) f.set_where(fmt::format("[[link]] {} - {}", l.ends[0].value, l.ends[1].value));
  if (f.has("subnets")) l.subnets = read_subnets(f);
  l.names = two_strings(f, "names", "interface name", check_interface_name);
  l.mtu = f.integer("mtu", kMinMtu, kMaxMtu);
  l.shape = read_shape(f);
  l.vni = f.integer("vni", 1, kMaxVni);
  f.reject_unknown();
  if (l.ends.size() == 2) lab.links.push_back(std::move(l));
}

// [[machine]] name = "m1", address = "192.0.2.1": where a slice of the lab runs.
void read_machine(const toml::table& t, Lab& lab, Diagnostics& d) {
  Fields f(t, table_spec("[[machine]]"), "[[machine]]", d);
  Machine m;
  m.pos = f.pos();
  auto name = f.string("name");
  if (name) {
    if (std::string why = check_netns_name(name->value); !why.empty()) {
      d.error(name->pos, fmt::format("machine name {} {}", quoted(name->value), why), width_of(*f.node("name")));
      name.reset();  // said once, here: a machine no reference finds
    } else {
      f.set_where(fmt::format("[[machine]] '{}'", name->value));
      m.name = *name;
    }
  } else if (!f.has("name")) {
    f.missing("name");
  }
  auto address = f.address("address");
  if (address && (address->value.is_multicast() || address->value.is_unspecified())) {
    d.error(address->pos, fmt::format("'address' of {} must be a unicast address", f.where()),
            width_of(*f.node("address")));
    address.reset();
  }
  if (!f.has("address")) f.missing("address");
  if (f.has("dev")) m.dev = f.interface_name("dev");
  if (auto mtu = f.integer("mtu", kMinMtu, kMaxMtu)) m.mtu = *mtu;
  f.reject_unknown();
  if (name && address) {
    m.address = *address;
    lab.machines.push_back(std::move(m));
  }
}

// [addressing] p2p = ["10.255.0.0/16", "fd00:255::/48"]: where links' subnets come from.
void read_addressing(Fields& f, Lab& lab) {
  const toml::table* t = f.table("addressing");
  if (!t) return;
  Fields af(*t, table_spec("[addressing]"), "[addressing]", f.diags());
  if (af.has("p2p")) lab.p2p_pools = read_subnets(af, "p2p");
  af.reject_unknown();
}

void read_top(const toml::table& root, Lab& lab, Diagnostics& d) {
  Fields f(root, table_spec("top level"), "the top level", d);
  if (auto name = f.string("lab")) {
    std::string why = check_lab_name(name->value);
    if (!why.empty())
      d.error(name->pos, fmt::format("lab name {} {}", quoted(name->value), why), width_of(*f.node("lab")));
    lab.name = *name;
  } else if (!f.has("lab")) {
    d.error({1, 1}, "missing required key 'lab' (the lab's name, like lab = \"web\")");
  }
  static const Choices<Routing> routings = {{"none", Routing::none}, {"static", Routing::static_}};
  if (auto r = choice(f, "routing", routings)) lab.routing = *r;
  if (f.has("addressing")) read_addressing(f, lab);
  if (f.has("host")) {
    if (const toml::table* host = f.table("host")) {
      Fields hf(*host, table_spec("[host]"), "[host]", d);
      read_sysctls(hf, lab.host_sysctls);
      read_limits(hf, lab.host_sysctls, lab.host_limits);
      read_policy(hf, lab.host_policy);
      hf.reject_unknown();
    }
  }
  f.reject_unknown();
}

}  // namespace

std::optional<Lab> read_lab(const SourceFile& file, Diagnostics& diags) {
  if (!check_nesting(file.text(), diags)) return std::nullopt;
  toml::table root;
  try {
    root = toml::parse(file.text(), file.path());
  } catch (const toml::parse_error& e) {
    std::string_view what = e.description();
    if (what.substr(0, 20) == "Error while parsing ") what.remove_prefix(20);
    diags.error(pos_of(e.source()), fmt::format("invalid TOML: {}", what));
    return std::nullopt;
  }
  Lab lab;
  read_top(root, lab, diags);
  for (const toml::table* t : tables_of(root, "machine", diags)) read_machine(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "network", diags)) read_network(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "link", diags)) read_link(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "netns", diags)) lab.netns.push_back(read_netns(*t, diags));
  for (const toml::table* t : tables_of(root, "bridge", diags)) read_bridge(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "veth", diags)) read_veth(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "vxlan", diags)) read_vxlan(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "macvlan", diags)) read_macvlan(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "route", diags)) read_route(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "nat", diags)) read_nat(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "expect", diags)) read_expect(*t, lab, diags);
  for (const toml::table* t : tables_of(root, "filter", diags)) read_filter(*t, lab, diags);
  return lab;
}

}  // namespace topo
