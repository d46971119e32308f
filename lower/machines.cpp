#include "lower/machines.h"

#include <fmt/format.h>

#include <algorithm>

#include "lower/link_names.h"
#include "parser/suggest.h"

namespace topo {
namespace {

int width(const std::string& s) { return static_cast<int>(s.size()) + 2; }

std::vector<std::string_view> machine_names(const Lab& lab) {
  std::vector<std::string_view> names;
  for (const Machine& m : lab.machines) names.push_back(m.name.value);
  return names;
}

// A `machine = "..."` key: one of the lab's machines, and only in a lab that has some.
void check_reference(const Lab& lab, const Located<std::string>& ref, std::string_view where, Diagnostics& d) {
  if (lab.machines.empty()) {
    d.error(ref.pos,
            fmt::format("{} is on machine {}, but the lab has no [[machine]]: a lab without machines runs where "
                        "topo runs",
                        where, quoted(ref.value)),
            width(ref.value));
    return;
  }
  if (!find_machine(lab, ref.value))
    d.error(ref.pos,
            fmt::format("{} is on machine {}, which is not a [[machine]] of the lab{}", where, quoted(ref.value),
                        did_you_mean(ref.value, machine_names(lab))),
            width(ref.value));
}

}  // namespace

void check_machines(const Lab& lab, Diagnostics& d) {
  for (size_t i = 0; i < lab.machines.size(); ++i) {
    const Machine& m = lab.machines[i];
    for (size_t j = 0; j < i; ++j) {
      const Machine& o = lab.machines[j];
      if (o.name.value == m.name.value) {
        d.error(m.name.pos, fmt::format("machine '{}' is defined twice", m.name.value), width(m.name.value));
        d.note(o.name.pos, "first defined here");
      } else if (o.address.value == m.address.value) {
        d.error(
            m.address.pos,
            fmt::format("machines '{}' and '{}' have the same address {}", o.name.value, m.name.value, m.address.value),
            width(to_string(m.address.value)));
      }
    }
    if (int64_t room = m.mtu.value - vxlan_overhead(m.address.value.family); room < 68)
      d.error(m.mtu.pos,
              fmt::format("mtu {} of machine '{}' leaves {} for frames through its tunnels, below the 68 IPv4 needs",
                          m.mtu.value, m.name.value, room),
              static_cast<int>(std::to_string(m.mtu.value).size()));
    const Machine& first = lab.machines.front();
    if (m.address.value.family != first.address.value.family)
      d.error(m.address.pos,
              fmt::format("machine '{}' has an {} address, machine '{}' an {} one: the tunnels between machines "
                          "run over one family",
                          m.name.value, family_name(m.address.value.family), first.name.value,
                          family_name(first.address.value.family)),
              width(to_string(m.address.value)));
  }
  for (const Netns& ns : lab.netns)
    if (ns.machine) check_reference(lab, *ns.machine, fmt::format("[[netns]] '{}'", ns.name.value), d);
  for (const Network& n : lab.networks) {
    if (!n.machine) continue;
    check_reference(lab, *n.machine, fmt::format("[[network]] '{}'", n.name.value), d);
    const Netns* gw = lab.find_netns(n.netns.value);
    std::string gw_machine = gw ? machine_of(lab, gw->name.value) : "";
    if (gw && !lab.machines.empty() && find_machine(lab, n.machine->value) && gw_machine != n.machine->value)
      d.error(n.machine->pos,
              fmt::format("[[network]] '{}' has its gateway in namespace '{}', which is on machine '{}', not '{}'",
                          n.name.value, n.netns.value, gw_machine, n.machine->value),
              width(n.machine->value));
  }
  for (const Network& n : lab.networks)
    if (n.vni && lab.machines.empty())
      d.error(n.vni->pos, fmt::format("'vni' in [[network]] '{}' is for a network across machines, and the lab has "
                                      "no [[machine]]",
                                      n.name.value));
  for (const Link& l : lab.links)
    if (l.vni && lab.machines.empty())
      d.error(l.vni->pos, "'vni' in a [[link]] is for a link across machines, and the lab has no [[machine]]");
}

void forget_unknown_machines(Lab& lab) {
  for (Netns& ns : lab.netns)
    if (ns.machine && !find_machine(lab, ns.machine->value)) ns.machine.reset();
  for (Network& n : lab.networks)
    if (n.machine && !find_machine(lab, n.machine->value)) n.machine.reset();
}

const Machine* find_machine(const Lab& lab, std::string_view name) {
  for (const Machine& m : lab.machines)
    if (m.name.value == name) return &m;
  return nullptr;
}

std::string machine_of(const Lab& lab, std::string_view ns) {
  if (lab.machines.empty()) return "";
  if (const Netns* n = lab.find_netns(ns); n && n->machine) return n->machine->value;
  return lab.machines.front().name.value;
}

int64_t vxlan_overhead(Family underlay) { return underlay == Family::v4 ? 50 : 70; }

int64_t tunnel_mtu(const Lab& lab, const std::vector<std::string>& machines) {
  int64_t least = INT64_MAX;
  for (const std::string& name : machines)
    if (const Machine* m = find_machine(lab, name))
      least = std::min(least, m->mtu.value - vxlan_overhead(m->address.value.family));
  return least;
}

Vnis::Vnis(const Lab& lab) : lab_(lab.name.value) {
  for (const Interface& i : lab.interfaces)
    if (const auto* v = std::get_if<Vxlan>(&i.spec)) used_.insert(v->id.value);
  for (const Network& n : lab.networks)
    if (n.vni) used_.insert(n.vni->value);
  for (const Link& l : lab.links)
    if (l.vni) used_.insert(l.vni->value);
}

int64_t Vnis::take(const std::optional<Located<int64_t>>& given, std::string_view key) {
  if (given) return given->value;
  constexpr int64_t kVnis = (1 << 24) - 1;  // 1 .. 2^24 - 1
  int64_t vni = names_hash({lab_, key}) % kVnis + 1;
  while (used_.count(vni)) vni = vni % kVnis + 1;
  used_.insert(vni);
  return vni;
}

namespace {

class Placement {
 public:
  Placement(Lab& lab, Diagnostics& d) : lab_(lab), d_(d), first_(lab.machines.front().name.value) {
    for (const Netns& ns : lab.netns) of_netns_[ns.name.value] = ns.machine ? ns.machine->value : first_;
  }

  void run() {
    for (size_t i = 0; i < lab_.interfaces.size(); ++i) place_interface(i);
    for (size_t i = 0; i < lab_.interfaces.size(); ++i) check_veth(i);
    routes();
    for (Nat& n : lab_.nats)
      if (n.machine.empty()) n.machine = of(n.netns.value);
    for (Filter& f : lab_.filters)
      if (f.machine.empty()) f.machine = of(f.netns.value);
  }

  void routes() {
    for (Route& r : lab_.routes)
      if (r.machine.empty()) r.machine = route_machine(r);
  }

 private:
  std::string of(const std::string& ns) const {
    auto it = of_netns_.find(ns);
    return it == of_netns_.end() ? first_ : it->second;
  }

  // A host end of a veth goes with the namespace at its other end.
  void place_interface(size_t i) {
    Interface& x = lab_.interfaces[i];
    if (!x.machine.empty()) return;
    x.machine = of(x.netns.value);
    const auto* v = std::get_if<VethEnd>(&x.spec);
    if (x.netns.value != kHostNetns || !v) return;
    const Interface& peer = lab_.interfaces.at(v->peer);
    if (peer.netns.value != kHostNetns) x.machine = of(peer.netns.value);
  }

  void check_veth(size_t i) {
    const Interface& x = lab_.interfaces[i];
    const auto* v = std::get_if<VethEnd>(&x.spec);
    if (!v || v->end != 'a') return;
    const Interface& peer = lab_.interfaces.at(v->peer);
    if (peer.machine == x.machine) return;
    d_.error(x.pos, fmt::format("{} joins namespace '{}' on machine '{}' to namespace '{}' on machine '{}': a veth "
                                "cannot cross machines; did you mean a [[link]]? (it becomes a VXLAN)",
                                x.where, x.netns.value, x.machine, peer.netns.value, peer.machine));
  }

  // In host, a route through a device goes where that device is, if on one machine only.
  std::string route_machine(const Route& r) const {
    if (r.netns.value != kHostNetns || !r.dev) return of(r.netns.value);
    std::set<std::string> on;
    for (const Interface& i : lab_.interfaces)
      if (i.netns.value == kHostNetns && i.name.value == r.dev->value) on.insert(i.machine);
    return on.size() == 1 ? *on.begin() : first_;
  }

  Lab& lab_;
  Diagnostics& d_;
  std::string first_;
  std::map<std::string, std::string> of_netns_;
};

}  // namespace

void place_on_machines(Lab& lab, Diagnostics& d) {
  if (lab.machines.empty()) return;
  Placement(lab, d).run();
}

void place_routes(Lab& lab, Diagnostics& d) {
  if (lab.machines.empty()) return;
  Placement(lab, d).routes();
}

namespace {

// Each namespace's machine and first address, found once: a slice of ten thousand
// namespaces would look each up in all of them.
struct Whereabouts {
  explicit Whereabouts(const Lab& lab) : first(lab.machines.front().name.value) {
    for (const Netns& ns : lab.netns) machine[ns.name.value] = ns.machine ? ns.machine->value : first;
    // `to = "host"` is the first machine's host, as every "host" of the file is.
    for (const Interface& i : lab.interfaces)
      if (!i.addresses.empty() && (i.netns.value != kHostNetns || i.machine == first))
        address.emplace(i.netns.value, i.addresses.front().value.address);
  }
  const std::string& of(const std::string& ns) const {
    auto it = machine.find(ns);
    return it == machine.end() ? first : it->second;
  }
  std::string first;
  std::map<std::string, std::string> machine;
  std::map<std::string, IpAddress> address;
};

}  // namespace

Lab slice(const Lab& lab, std::string_view machine) {
  if (lab.machines.empty()) return lab;
  Whereabouts where(lab);
  Lab out;
  out.name = lab.name;
  out.routing = lab.routing;
  out.p2p_pools = lab.p2p_pools;
  // [host.policy] goes with the host [[filter]]s it is the default of: on the first machine.
  if (machine == lab.machines.front().name.value) out.host_policy = lab.host_policy;
  for (const Sysctl& s : lab.host_sysctls)
    if (s.machine.empty() || s.machine == machine) out.host_sysctls.push_back(s);
  for (const Sysctl& s : lab.host_limits)
    if (s.machine.empty() || s.machine == machine) out.host_limits.push_back(s);
  for (const Netns& ns : lab.netns)
    if (where.of(ns.name.value) == machine) out.netns.push_back(ns);
  // Interfaces keep their order; a veth's peer is found again by its new index.
  std::vector<size_t> index(lab.interfaces.size(), SIZE_MAX);
  for (size_t i = 0; i < lab.interfaces.size(); ++i)
    if (lab.interfaces[i].machine == machine) {
      index[i] = out.interfaces.size();
      out.interfaces.push_back(lab.interfaces[i]);
    }
  for (Interface& i : out.interfaces) {
    if (auto* v = std::get_if<VethEnd>(&i.spec)) v->peer = index.at(v->peer);
    if (auto* v = std::get_if<Vxlan>(&i.spec)) v->peer.reset();
  }
  for (const Route& r : lab.routes)
    if (r.machine == machine) out.routes.push_back(r);
  for (const Nat& n : lab.nats)
    if (n.machine == machine) out.nats.push_back(n);
  for (const Filter& f : lab.filters)
    if (f.machine == machine) out.filters.push_back(f);
  for (const Expect& e : lab.expects) {
    if (where.of(e.from.value) != machine) continue;
    Expect mine = e;
    if (auto a = where.address.find(e.to.value); !mine.to_address && a != where.address.end())
      mine.to_address = a->second;
    out.expects.push_back(std::move(mine));
  }
  return out;
}

MachineChoice choose_machine(const Lab& lab, const std::string& given, const std::vector<IpAddress>& local) {
  std::vector<std::string> listed;
  for (const Machine& m : lab.machines) listed.push_back(fmt::format("{} ({})", m.name.value, m.address.value));
  if (lab.machines.empty()) {
    if (given.empty()) return {};
    return {"",
            fmt::format("--machine {}: lab '{}' has no [[machine]]; it runs where topo runs", given, lab.name.value)};
  }
  if (!given.empty()) {
    if (find_machine(lab, given)) return {given, ""};
    return {"", fmt::format("--machine {}: lab '{}' has no such machine{}; its machines: {}", given, lab.name.value,
                            did_you_mean(given, machine_names(lab)), fmt::join(listed, ", "))};
  }
  std::vector<std::string> here;
  for (const Machine& m : lab.machines)
    if (std::find(local.begin(), local.end(), m.address.value) != local.end()) here.push_back(m.name.value);
  if (here.size() == 1) return {here.front(), ""};
  if (here.empty())
    return {"", fmt::format("no machine of lab '{}' has an address of this host ({}): say which this is with "
                            "--machine NAME",
                            lab.name.value, fmt::join(listed, ", "))};
  return {"", fmt::format("machines {} of lab '{}' all have an address of this host: say which this is with "
                          "--machine NAME",
                          fmt::join(here, ", "), lab.name.value)};
}

std::map<std::string, SliceSize> slice_sizes(const Lab& lab) {
  std::map<std::string, SliceSize> out;
  if (lab.machines.empty()) return out;
  Whereabouts where(lab);
  for (const Machine& m : lab.machines) out[m.name.value];
  for (const Netns& ns : lab.netns) ++out[where.of(ns.name.value)].namespaces;
  for (const Interface& i : lab.interfaces) ++out[i.machine].interfaces;
  for (const Route& r : lab.routes) ++out[r.machine].routes;
  for (const Expect& e : lab.expects) ++out[where.of(e.from.value)].expectations;
  return out;
}

}  // namespace topo
