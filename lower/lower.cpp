#include "lower/lower.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "lower/link_names.h"
#include "lower/machines.h"
#include "lower/p2p_links.h"
#include "lower/routing.h"
#include "lower/subnet_pool.h"
#include "parser/names.h"
#include "parser/suggest.h"

namespace topo {
namespace {

// A Linux bridge takes at most 1023 ports. A network with more members than a bridge holds
// is one L2 segment of bridges: the root, which holds the gateway, and leaves of at most
// this many members each, each joined to the root by a veth (no loops: a tree).
constexpr size_t kMembersPerBridge = 1000;

// A network as it is lowered: its bridge, and a pool per subnet, in the file's order.
struct NetworkPlan {
  Network* network = nullptr;
  std::string bridge;
  std::vector<SubnetPool> pools;
  std::vector<size_t> wanting;  // per subnet: members that take an allocated address
  size_t members = 0;
  // Across machines ([[machine]]); one machine "" in a lab without them.
  std::string machine;                // where the gateway (and NAT) are
  std::vector<std::string> machines;  // where it has a bridge, in the lab's order
  std::map<std::string, size_t> on;   // members on each machine
  int64_t vni = 0;                    // of its VXLANs when on several machines
};

// One member's veth on one network, before it becomes two interfaces.
struct Attachment {
  size_t netns = 0;       // index in Lab::netns
  size_t membership = 0;  // index in that namespace's `networks`
  NetworkPlan* plan = nullptr;
  std::vector<std::optional<IpAddress>> addresses;  // per subnet of the network
  size_t index = 0;                                 // among the network's members on its machine, in file order
  std::string machine;                              // the member's
};

class Lowering {
 public:
  Lowering(Lab lab, Diagnostics& d) : lab_(std::move(lab)), d_(d) {}

  Lab run() && {
    check_machines(lab_, d_);
    forget_unknown_machines(lab_);
    Vnis vnis(lab_);
    expand_groups();
    plan_networks();
    attach_members();
    span_machines(vnis);
    allocate();
    for (NetworkPlan& p : plans_) make_network(p);
    raise_machine_limits();
    for (const Attachment& a : attachments_) make_veth(a);
    lower_links(lab_, d_, vnis);
    publish_ports();
    expectations_to_networks();
    expectations_of_everyone();
    place_on_machines(lab_, d_);
    add_static_routes(lab_, d_);
    place_routes(lab_, d_);
    lab_.networks.clear();
    for (Netns& ns : lab_.netns) {
      ns.networks.clear();
      ns.publish.clear();
    }
    return std::move(lab_);
  }

 private:
  // [[netns]] name = "worker", count = 3: worker1, worker2, worker3, each with the same keys.
  void expand_groups() {
    std::vector<Netns> out;
    for (Netns& ns : lab_.netns) {
      if (!ns.count) {
        out.push_back(std::move(ns));
        continue;
      }
      int64_t n = ns.count->value;
      std::string longest = fmt::format("{}{}", ns.name.value, n);
      if (std::string why = check_netns_name(longest); !why.empty()) {
        d_.error(ns.count->pos,
                 fmt::format("'count' = {} makes namespace names up to {}, which {}", n, quoted(longest), why));
        continue;
      }
      for (int64_t i = 1; i <= n; ++i) {
        Netns member = ns;
        member.name.value = fmt::format("{}{}", ns.name.value, i);
        member.count.reset();
        out.push_back(std::move(member));
      }
    }
    lab_.netns = std::move(out);
  }

  void plan_networks() {
    std::map<std::string, const Network*> seen;
    for (Network& n : lab_.networks) {
      auto [it, fresh] = seen.emplace(n.name.value, &n);
      if (!fresh) {
        d_.error(n.name.pos, fmt::format("network '{}' is defined twice", n.name.value),
                 static_cast<int>(n.name.value.size()) + 2);
        d_.note(it->second->name.pos, "first defined here");
        continue;
      }
      NetworkPlan p;
      p.network = &n;
      p.bridge = n.bridge ? n.bridge->value : n.name.value;
      for (const auto& s : n.subnets) p.pools.emplace_back(s.value, n.gateway);
      p.wanting.assign(n.subnets.size(), 0);
      plans_.push_back(std::move(p));
    }
    check_overlaps();
  }

  // Two networks on one subnet would route each other's members to the wrong bridge.
  void check_overlaps() {
    for (size_t i = 0; i < plans_.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        for (const auto& a : plans_[i].network->subnets)
          for (const auto& b : plans_[j].network->subnets)
            if (a.value.overlaps(b.value))
              d_.error(a.pos,
                       fmt::format("subnet {} of network '{}' overlaps subnet {} of network '{}'", a.value,
                                   plans_[i].network->name.value, b.value, plans_[j].network->name.value),
                       static_cast<int>(to_string(a.value).size()) + 2);
  }

  NetworkPlan* find_plan(std::string_view name) {
    for (NetworkPlan& p : plans_)
      if (p.network->name.value == name) return &p;
    return nullptr;
  }

  std::vector<std::string_view> network_names() const {
    std::vector<std::string_view> names;
    for (const NetworkPlan& p : plans_) names.push_back(p.network->name.value);
    return names;
  }

  // Each membership names a network; explicit addresses are taken first, so that allocation
  // skips them whatever the order.
  void attach_members() {
    for (size_t i = 0; i < lab_.netns.size(); ++i) {
      const Netns& ns = lab_.netns[i];
      for (size_t j = 0; j < ns.networks.size(); ++j) {
        const Membership& m = ns.networks[j];
        NetworkPlan* p = find_plan(m.network.value);
        if (!p) {
          d_.error(m.network.pos,
                   fmt::format("namespace '{}' is on network {}, which is not defined{}", ns.name.value,
                               quoted(m.network.value), did_you_mean(m.network.value, network_names())),
                   static_cast<int>(m.network.value.size()) + 2);
          continue;
        }
        std::string machine = machine_of(ns);
        Attachment a{i, j, p, std::vector<std::optional<IpAddress>>(p->pools.size()), p->on[machine]++, machine};
        ++p->members;
        if (m.address) take_explicit(a, *m.address);
        for (size_t k = 0; k < a.addresses.size(); ++k)
          if (!a.addresses[k]) ++p->wanting[k];
        attachments_.push_back(std::move(a));
      }
    }
  }

  // The machine of a namespace, found once for all (a group has thousands).
  std::string machine_of(const Netns& ns) {
    if (lab_.machines.empty()) return "";
    return ns.machine ? ns.machine->value : lab_.machines.front().name.value;
  }

  // Where each network has a bridge: the gateway's machine and each member's. On several,
  // the bridges are joined by VXLANs of one VNI, and the network's mtu is what the
  // tunnels carry: less, and nothing fragments silently.
  void span_machines(Vnis& vnis) {
    for (NetworkPlan& p : plans_) {
      Network& n = *p.network;
      const Netns* gw = lab_.find_netns(n.netns.value);
      p.machine = n.machine ? n.machine->value : gw ? machine_of(*gw) : topo::machine_of(lab_, kHostNetns);
      for (const Machine& m : lab_.machines)
        if (m.name.value == p.machine || p.on.count(m.name.value)) p.machines.push_back(m.name.value);
      if (p.machines.empty()) p.machines.push_back(p.machine);
      if (p.machines.size() < 2) {
        if (n.vni && !lab_.machines.empty())
          d_.error(n.vni->pos, fmt::format("'vni' in [[network]] '{}' is for a network across machines; it is on "
                                           "machine '{}' alone",
                                           n.name.value, p.machines.front()));
        continue;
      }
      p.vni = vnis.take(n.vni, "network " + n.name.value);
      int64_t room = tunnel_mtu(lab_, p.machines);
      if (!n.mtu) {
        n.mtu = Located<int64_t>{room, n.pos};
      } else if (n.mtu->value > room) {
        d_.error(n.mtu->pos,
                 fmt::format("mtu {} of network '{}' is above {}, what the tunnels between its machines ({}) carry "
                             "after their headers",
                             n.mtu->value, n.name.value, room, fmt::join(p.machines, ", ")),
                 static_cast<int>(std::to_string(n.mtu->value).size()));
      }
    }
  }

  // Across machines each machine's bridge has its own address, derived with the machine's
  // name, written out so that `topo expand --machine` says it: with one address for all, a
  // frame to the gateway's would stop at the first bridge as if addressed to it.
  std::optional<Located<MacAddress>> machine_mac(const NetworkPlan& p, const std::string& m, const std::string& netns,
                                                 const std::string& name) const {
    if (p.machines.size() < 2) return std::nullopt;
    return Located<MacAddress>{bridge_mac(lab_.name.value, m + "/" + netns, name), p.network->pos};
  }

  // The namespace of the network's bridge on machine `m`: its own on the gateway's machine,
  // host on the others.
  static const std::string& netns_on(const NetworkPlan& p, const std::string& m) {
    static const std::string host(kHostNetns);
    return m == p.machine ? p.network->netns.value : host;
  }

  void take_explicit(Attachment& a, const Located<IpPrefix>& addr) {
    const Network& n = *a.plan->network;
    for (size_t k = 0; k < n.subnets.size(); ++k) {
      const IpPrefix& s = n.subnets[k].value;
      if (s.address.family != addr.value.address.family) continue;
      if (!s.contains(addr.value.address) || s.length != addr.value.length) {
        d_.error(addr.pos, fmt::format("address {} is not on subnet {} of network '{}'", addr.value, s, n.name.value),
                 static_cast<int>(to_string(addr.value).size()) + 2);
        return;
      }
      if (auto [it, fresh] = explicit_.emplace(addr.value.address, addr.pos); !fresh) {
        d_.error(addr.pos, fmt::format("address {} is given twice on network '{}'", addr.value.address, n.name.value),
                 static_cast<int>(to_string(addr.value).size()) + 2);
        d_.note(it->second, "first given here");
        return;
      }
      if (n.gateway && addr.value.address == a.plan->pools[k].gateway()) {
        d_.error(addr.pos, fmt::format("address {} is the gateway's of network '{}'", addr.value.address, n.name.value),
                 static_cast<int>(to_string(addr.value).size()) + 2);
        return;
      }
      a.plan->pools[k].take(addr.value.address);
      a.addresses[k] = addr.value.address;
      return;
    }
    d_.error(addr.pos,
             fmt::format("address {} is {}, and network '{}' has no {} subnet", addr.value,
                         family_name(addr.value.address.family), n.name.value, family_name(addr.value.address.family)),
             static_cast<int>(to_string(addr.value).size()) + 2);
  }

  // The next free addresses, members in file order; a subnet too small is said once, with
  // how many fit and how many want one.
  void allocate() {
    for (NetworkPlan& p : plans_) {
      for (size_t k = 0; k < p.pools.size(); ++k) {
        uint64_t gateway = p.network->gateway ? 1 : 0;
        uint64_t room = p.pools[k].hosts() - std::min(p.pools[k].hosts(), gateway + count_explicit(p, k));
        if (p.wanting[k] <= room) continue;
        const auto& s = p.network->subnets[k];
        d_.error(s.pos,
                 fmt::format("subnet {} of network '{}' has room for {} member{}{}, but {} want an address from it",
                             s.value, p.network->name.value, room, room == 1 ? "" : "s",
                             p.network->gateway ? " besides its gateway" : "", p.wanting[k]),
                 static_cast<int>(to_string(s.value).size()) + 2);
        p.wanting[k] = 0;  // reported: nothing is allocated from it
      }
    }
    for (Attachment& a : attachments_)
      for (size_t k = 0; k < a.addresses.size(); ++k)
        if (!a.addresses[k] && a.plan->wanting[k]) a.addresses[k] = a.plan->pools[k].next();
  }

  uint64_t count_explicit(const NetworkPlan& p, size_t k) const {
    uint64_t n = 0;
    for (const Attachment& a : attachments_)
      if (a.plan == &p) {
        const Membership& m = lab_.netns[a.netns].networks[a.membership];
        if (m.address && m.address->value.address.family == p.network->subnets[k].value.address.family) ++n;
      }
    return n;
  }

  // The bridge on each of its machines, the gateway's addresses, forwarding and masquerade
  // on the gateway's.
  void make_network(const NetworkPlan& p) {
    const Network& n = *p.network;
    for (const std::string& m : p.machines) make_bridge(p, m);
    if (!n.masquerade) return;
    for (const Located<IpPrefix>& s : n.subnets) {
      Nat nat;
      nat.netns = n.netns;
      nat.kind = {NatKind::masquerade, n.pos};
      nat.source = s;
      nat.out = Located<std::string>{p.bridge, n.pos};
      nat.not_out = true;  // Docker's "! -o docker0": what leaves the network, not what stays on it
      nat.pos = n.pos;
      nat.machine = p.machine;
      lab_.nats.push_back(std::move(nat));
    }
  }

  void make_bridge(const NetworkPlan& p, const std::string& m) {
    const Network& n = *p.network;
    bool gateway_here = m == p.machine;
    Interface bridge;
    bridge.netns = {netns_on(p, m), n.netns.pos};
    bridge.name = {p.bridge, n.bridge ? n.bridge->pos : n.name.pos};
    bridge.mtu = n.mtu;
    bridge.spec = Bridge{n.isolate, {}};
    bridge.pos = n.pos;
    bridge.where = fmt::format("[[network]] '{}'", n.name.value);
    bridge.origin = Origin{n.name.value, Origin::Role::bridge, ""};
    bridge.machine = m;
    bridge.mac = machine_mac(p, m, bridge.netns.value, p.bridge);
    if (!gateway_here) bridge.link_local = low_mtu(n);  // a switch, not a host (quiet_leaf)
    for (size_t k = 0; k < p.pools.size() && gateway_here; ++k) {
      const Located<IpPrefix>& s = n.subnets[k];
      if (!n.gateway) continue;
      bridge.addresses.push_back({p.pools[k].on_link(p.pools[k].gateway()), s.pos});
      bool v4 = s.value.address.family == Family::v4;
      need_sysctl(p, v4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding");
    }
    lab_.interfaces.push_back(std::move(bridge));
    if (p.machines.size() > 1) make_tunnel(p, m);
    make_leaves(p, m);
  }

  // The network's VXLAN on machine `m`, a port of its bridge, flooding to each other machine
  // of the network (unicast head-end replication: no multicast in the underlay).
  void make_tunnel(const NetworkPlan& p, const std::string& m) {
    const Network& n = *p.network;
    const Machine& here = *find_machine(lab_, m);
    Vxlan v;
    v.id = {p.vni, n.vni ? n.vni->pos : n.pos};
    v.local = here.address;
    for (const std::string& other : p.machines)
      if (other != m) v.remotes.push_back(find_machine(lab_, other)->address);
    std::sort(v.remotes.begin(), v.remotes.end(), [](const auto& a, const auto& b) { return a.value < b.value; });
    v.dev = here.dev;
    if (netns_on(p, m) != kHostNetns) v.underlay_netns = Located<std::string>{std::string(kHostNetns), n.pos};
    v.port = {kVxlanPort, n.pos};
    Interface tunnel;
    tunnel.netns = {netns_on(p, m), n.netns.pos};
    tunnel.name = {segment_name(p.bridge, "_v"), n.name.pos};
    tunnel.mtu = n.mtu;
    tunnel.master = Located<std::string>{p.bridge, n.name.pos};
    tunnel.link_local = low_mtu(n);
    tunnel.pos = n.pos;
    tunnel.where = fmt::format("[[network]] '{}' (its tunnel to the other machines)", n.name.value);
    tunnel.origin = Origin{n.name.value, Origin::Role::segment, ""};
    tunnel.machine = m;
    if (tunnels_.count(n.name.value))
      v.peer = tunnels_[n.name.value];
    else
      tunnels_[n.name.value] = lab_.interfaces.size();
    tunnel.spec = std::move(v);
    lab_.interfaces.push_back(std::move(tunnel));
  }

  // The bridge a member's veth joins: the network's, or in a segment its leaf's.
  static std::string bridge_of(const NetworkPlan& p, const Attachment& a) {
    return members_on(p, a.machine) <= kMembersPerBridge ? p.bridge : leaf_name(p, a.index / kMembersPerBridge);
  }

  static size_t members_on(const NetworkPlan& p, const std::string& m) {
    auto it = p.on.find(m);
    return it == p.on.end() ? 0 : it->second;
  }

  static std::string leaf_name(const NetworkPlan& p, size_t k) {
    return segment_name(p.bridge, fmt::format("_s{}", k + 1));
  }

  // A segment's leaves: a bridge each (ROOT_sK), on a veth from the root (ROOT_uK) to the
  // leaf (ROOT_dK). A member's end is NETWORK-MEMBER: a network name has no '_', so no
  // member's end can take a name of the segment's.
  void make_leaves(const NetworkPlan& p, const std::string& m) {
    size_t members = members_on(p, m);
    if (members <= kMembersPerBridge) return;
    const Network& n = *p.network;
    size_t leaves = (members + kMembersPerBridge - 1) / kMembersPerBridge;
    for (size_t k = 0; k < leaves; ++k) {
      Interface leaf;
      leaf.netns = {netns_on(p, m), n.netns.pos};
      leaf.machine = m;
      leaf.mac = machine_mac(p, m, leaf.netns.value, leaf_name(p, k));
      leaf.name = {leaf_name(p, k), n.name.pos};
      leaf.mtu = n.mtu;
      leaf.spec = Bridge{};
      leaf.link_local = low_mtu(n);  // a switch, not a host (quiet_leaf)
      leaf.pos = n.pos;
      leaf.where = fmt::format("[[network]] '{}' (bridge {} of its segment)", n.name.value, k + 1);
      leaf.origin = Origin{n.name.value, Origin::Role::segment, ""};
      lab_.interfaces.push_back(std::move(leaf));
      quiet_leaf(p, m, leaf_name(p, k));
      Interface up, down;
      for (Interface* end : {&up, &down}) {
        end->netns = {netns_on(p, m), n.netns.pos};
        end->machine = m;
        end->mtu = n.mtu;
        end->pos = n.pos;
        end->where = fmt::format("[[network]] '{}' (the link to bridge {} of its segment)", n.name.value, k + 1);
        end->origin = Origin{n.name.value, Origin::Role::segment, ""};
        end->link_local = low_mtu(n);  // a cable between switches (make_veth)
      }
      up.name = {segment_name(p.bridge, fmt::format("_u{}", k + 1)), n.name.pos};
      up.master = Located<std::string>{p.bridge, n.name.pos};
      down.name = {segment_name(p.bridge, fmt::format("_d{}", k + 1)), n.name.pos};
      down.master = Located<std::string>{leaf_name(p, k), n.name.pos};
      size_t i = lab_.interfaces.size();
      up.spec = VethEnd{i + 1, 'a'};
      down.spec = VethEnd{i, 'b'};
      lab_.interfaces.push_back(std::move(up));
      lab_.interfaces.push_back(std::move(down));
    }
  }

  // A leaf is a switch, not a host: with the kernel's default (arp_ignore 0) it would answer
  // the members' ARP requests for the gateway with its own address, the gateway being on
  // its namespace, and learn every member as a neighbour, a segment's members times its
  // leaves entries in a neighbour table that holds 1024 on the whole machine by default.
  // It has no IPv6 link-local address either (link_local), for the same reason as the
  // members (make_veth).
  void quiet_leaf(const NetworkPlan& p, const std::string& m, const std::string& leaf) {
    std::vector<Sysctl>* list = lab_.sysctls_of(netns_on(p, m));
    if (list) quietly_set(*list, "net.ipv4.conf." + leaf + ".arp_ignore", p.network->pos, m);
  }

  // A segment's broadcast (every ARP request) is queued for all its members at once, on one
  // CPU's backlog, which holds net.core.netdev_max_backlog packets (1000 by default) and
  // drops the rest, the gateway's reply included: measured, 1,500 members worked and 2,001
  // did not. And the neighbour table, one for every namespace of the machine, holds
  // gc_thresh3 entries (1024), a gateway and its members learning each other twice the
  // members; above gc_thresh2 (512) the kernel throws out entries older than 5 s, which
  // then cost a broadcast each to learn again. Both are raised while the lab is applied
  // ([host] limits), to at least what the largest segment needs, in multiples of 1024.
  //
  // Each machine's own, in a lab over several: a machine's segment is its members of the
  // network, and its gateway's machine learns all of them.
  void raise_machine_limits() {
    std::vector<std::string> machines;
    for (const Machine& m : lab_.machines) machines.push_back(m.name.value);
    if (machines.empty()) machines.push_back("");
    for (const std::string& m : machines) {
      size_t most = 0;
      bool v6 = false;
      SourcePos pos;
      for (const NetworkPlan& p : plans_) {
        size_t members = p.machine == m ? p.members : members_on(p, m);
        if (members > kMembersPerBridge && members > most) {
          most = members;
          v6 = has_ipv6(*p.network);
          pos = p.network->pos;
        }
      }
      if (most == 0) continue;
      auto rounded = [](size_t n) { return std::to_string((n + 1023) / 1024 * 1024); };
      raise_limit("net.core.netdev_max_backlog", rounded(most + 1000), pos, m);
      for (const char* family : {"ipv4", "ipv6"}) {
        if (std::string_view(family) == "ipv6" && !v6) continue;
        for (const char* level : {"gc_thresh2", "gc_thresh3"})
          raise_limit(fmt::format("net.{}.neigh.default.{}", family, level), rounded(2 * most + 1024), pos, m);
      }
    }
  }

  // A limit of the file's own stays when it is higher; a key the file sets exactly with
  // [host] sysctl is the file's to decide.
  void raise_limit(const std::string& key, const std::string& value, SourcePos pos, const std::string& m) {
    for (const Sysctl& s : lab_.host_sysctls)
      if (s.key.value == key) return;
    for (Sysctl& s : lab_.host_limits)
      if (s.key.value == key && (s.machine.empty() || s.machine == m) && std::stoll(s.value.value) >= std::stoll(value))
        return;
    for (Sysctl& s : lab_.host_limits)
      if (s.key.value == key && s.machine == m) {
        s.value = {value, pos};
        return;
      }
    lab_.host_limits.push_back({{key, pos}, {value, pos}, m});
  }

  // A gateway forwards: the sysctl is set in its namespace, unless the file says otherwise.
  void need_sysctl(const NetworkPlan& p, const std::string& key) {
    const Network& n = *p.network;
    std::vector<Sysctl>* list = lab_.sysctls_of(n.netns.value);
    if (!list) return;  // an unknown namespace: the validator says so at the bridge
    for (const Sysctl& s : *list) {
      if (s.key.value != key || (!s.machine.empty() && s.machine != p.machine)) continue;
      if (s.value.value != "1")
        d_.error(s.value.pos,
                 fmt::format("{} = {} here, but network '{}' has its gateway in namespace '{}', which must forward "
                             "({} = 1)",
                             key, s.value.value, n.name.value, n.netns.value, key),
                 static_cast<int>(s.value.value.size()));
      return;
    }
    list->push_back({{key, n.pos}, {"1", n.pos}, n.netns.value == kHostNetns ? p.machine : ""});
  }

  // eth0, eth1... inside, in list order; the host-side end named from the names alone.
  void make_veth(const Attachment& a) {
    const Netns& ns = lab_.netns[a.netns];
    const Membership& m = ns.networks[a.membership];
    const Network& n = *a.plan->network;
    Interface inside, outside;
    inside.netns = {ns.name.value, m.pos};
    inside.name = m.name ? *m.name : Located<std::string>{fmt::format("eth{}", a.membership), m.pos};
    for (size_t k = 0; k < a.addresses.size(); ++k)
      if (a.addresses[k]) inside.addresses.push_back({a.plan->pools[k].on_link(*a.addresses[k]), m.pos});
    inside.shape = m.shape;
    outside.netns = {netns_on(*a.plan, a.machine), m.pos};
    outside.name = {end_name(n, ns.name.value), m.pos};
    outside.master = Located<std::string>{bridge_of(*a.plan, a), m.pos};
    for (Interface* end : {&inside, &outside}) {
      end->mtu = n.mtu;
      end->pos = m.pos;
      end->where = fmt::format("[[netns]] '{}' on network '{}'", ns.name.value, n.name.value);
      end->origin =
          Origin{n.name.value, end == &inside ? Origin::Role::inside : Origin::Role::member_end, ns.name.value};
      end->machine = a.machine;
    }
    size_t i = lab_.interfaces.size();
    inside.spec = VethEnd{i + 1, 'a'};
    outside.spec = VethEnd{i, 'b'};
    // On a network without IPv6 the member's end has no IPv6 link-local address, and so
    // sends no IPv6 of its own (Docker disables IPv6 there): else each member's link-local
    // address, its duplicate address detection, multicast listener reports and router
    // solicitations reach every other member, N times N frames that keep a segment of
    // thousands saturated for minutes after the apply. A link attribute, not the
    // disable_ipv6 sysctl: the kernel finds a sysctl file by walking past the same name in
    // every namespace, a cost per member that grows with the members (docs/performance.md).
    inside.link_local = has_ipv6(n) || low_mtu(n);
    // A bridge port needs no address of its own on any network: without it the machine's
    // namespace does not see thousands of addresses come and go (their duplicate address
    // detection) for seconds after the apply, each ending a dump of its addresses early.
    outside.link_local = low_mtu(n);
    lab_.interfaces.push_back(std::move(inside));
    lab_.interfaces.push_back(std::move(outside));
    if (n.gateway && first_gateway(ns) == a.plan) default_routes(ns, m, *a.plan);
  }

  // Below 1280 a link has no IPv6 at all, and no link-local address to turn off.
  static bool low_mtu(const Network& n) { return n.mtu && n.mtu->value < 1280; }

  static bool has_ipv6(const Network& n) {
    return std::any_of(n.subnets.begin(), n.subnets.end(),
                       [](const Located<IpPrefix>& s) { return s.value.address.family == Family::v6; });
  }

  // `key` = 1, unless the file gives the key a value of its own.
  static void quietly_set(std::vector<Sysctl>& list, const std::string& key, SourcePos pos, const std::string& m) {
    if (std::none_of(list.begin(), list.end(), [&](const Sysctl& s) { return s.key.value == key; }))
      list.push_back({{key, pos}, {"1", pos}, m});
  }

  // The first network in the namespace's list that has a gateway: its default route's.
  const NetworkPlan* first_gateway(const Netns& ns) {
    for (const Membership& m : ns.networks)
      if (const NetworkPlan* p = find_plan(m.network.value); p && p->network->gateway) return p;
    return nullptr;
  }

  void default_routes(const Netns& ns, const Membership& m, const NetworkPlan& p) {
    for (const SubnetPool& pool : p.pools) {
      Route r;
      r.netns = {ns.name.value, m.pos};
      IpAddress gw = pool.gateway();
      r.to = {IpPrefix{IpAddress{gw.family, {}}, 0}, m.pos};
      r.via = Located<IpAddress>{gw, m.pos};
      r.pos = m.pos;
      lab_.routes.push_back(std::move(r));
    }
  }

  // "front-web" where it fits and no other member's name on the namespace's networks would
  // read the same; a hash of the names otherwise.
  std::string end_name(const Network& n, const std::string& member) {
    std::string readable = readable_end_name(n.name.value, member);
    if (!readable.empty() && readable_owners(n.netns.value, readable) == 1) return readable;
    return hashed_end_name(lab_.name.value, n.name.value, member);
  }

  size_t readable_owners(const std::string& netns, const std::string& name) {
    auto& owners = readable_[netns];
    if (owners.empty())
      for (const Attachment& a : attachments_)
        if (a.plan->network->netns.value == netns)
          ++owners[readable_end_name(a.plan->network->name.value, lab_.netns[a.netns].name.value)];
    return owners[name];
  }

  // Docker's -p: a dnat in the first network's gateway namespace to the member's first address.
  void publish_ports() {
    for (const Netns& ns : lab_.netns) {
      if (ns.publish.empty()) continue;
      const Attachment* first = nullptr;
      for (const Attachment& a : attachments_)
        if (&lab_.netns[a.netns] == &ns && a.membership == 0) first = &a;
      std::optional<IpAddress> to;  // IPv4 first, as Docker publishes
      if (first)
        for (const auto& addr : first->addresses)
          if (addr && (!to || addr->family == Family::v4)) to = addr;
      if (!first || !to) {
        if (ns.networks.empty())
          d_.error(ns.publish[0].pos, fmt::format("'publish' in [[netns]] '{}' needs a network: its first network's "
                                                  "gateway publishes the port",
                                                  ns.name.value));
        continue;
      }
      for (const Located<Publish>& p : ns.publish) {
        Nat nat;
        nat.netns = first->plan->network->netns;
        nat.kind = {NatKind::dnat, p.pos};
        nat.proto = Located<Proto>{p.value.proto.value_or(Proto::tcp), p.pos};
        nat.port = Located<int64_t>{p.value.host_port, p.pos};
        nat.to = Located<IpAddress>{*to, p.pos};
        nat.to_port = Located<int64_t>{p.value.port, p.pos};
        nat.pos = p.pos;
        nat.machine = first->plan->machine;
        lab_.nats.push_back(std::move(nat));
      }
    }
  }

  // [[expect]] to = "front": the network's gateway address, when no namespace has the name.
  void expectations_to_networks() {
    for (Expect& e : lab_.expects) {
      if (e.to_address || lab_.find_netns(e.to.value)) continue;
      const NetworkPlan* p = find_plan(e.to.value);
      if (!p) continue;
      if (!p->network->gateway || p->pools.empty()) {
        d_.error(e.to.pos,
                 fmt::format("'to' names network '{}', which has no gateway address (gateway = false)", e.to.value));
        continue;
      }
      e.to_address = p->pools[0].gateway();
    }
  }

  // [[expect]] from = "*" and/or to = "*": every namespace of the lab that has an address
  // (to its first one), itself excluded: "everything reaches everything" in one entry.
  void expectations_of_everyone() {
    auto any = [](const Expect& e) { return e.from.value == "*" || (e.to.value == "*" && !e.to_address); };
    if (std::none_of(lab_.expects.begin(), lab_.expects.end(), any)) return;
    // Lab::first_address of each, in one pass: asking it for each would be quadratic.
    std::map<std::string, IpAddress> first;
    for (const Interface& i : lab_.interfaces)
      if (!i.addresses.empty()) first.emplace(i.netns.value, i.addresses.front().value.address);
    std::vector<std::string> everyone;
    for (const Netns& ns : lab_.netns)
      if (first.count(ns.name.value)) everyone.push_back(ns.name.value);
    std::vector<Expect> out;
    for (Expect& e : lab_.expects) {
      bool any_from = e.from.value == "*", any_to = e.to.value == "*" && !e.to_address;
      if (!any_from && !any_to) {
        out.push_back(std::move(e));
        continue;
      }
      if (everyone.empty()) {
        d_.error(any_from ? e.from.pos : e.to.pos, "\"*\" finds no namespace of the lab with an address", 3);
        continue;
      }
      std::vector<std::string> froms = any_from ? everyone : std::vector<std::string>{e.from.value};
      std::vector<std::string> tos = any_to ? everyone : std::vector<std::string>{e.to.value};
      if (out.size() + froms.size() * tos.size() > kMaxExpectations) {
        d_.error(e.pos,
                 fmt::format("[[expect]] from = {}, to = {} makes up to {} expectations; topo tests at most {} "
                             "in a lab",
                             quoted(e.from.value), quoted(e.to.value), froms.size() * tos.size(), kMaxExpectations));
        continue;
      }
      std::string group = e.from.value + " -> " + e.to.value;
      for (const std::string& from : froms)
        for (const std::string& to : tos) {
          if (from == to) continue;
          Expect one = e;
          one.from.value = from;
          one.to.value = to;
          if (any_to) one.to_address = first.at(to);  // the validator need not look it up again
          one.group = group;
          out.push_back(std::move(one));
        }
    }
    lab_.expects = std::move(out);
  }

  Lab lab_;
  Diagnostics& d_;
  std::vector<NetworkPlan> plans_;
  std::vector<Attachment> attachments_;
  std::map<std::string, size_t> tunnels_;  // network -> its first VXLAN, the others' peer
  std::map<IpAddress, SourcePos> explicit_;
  std::map<std::string, std::map<std::string, size_t>> readable_;  // namespace -> name -> members
};

}  // namespace

Lab lower(Lab lab, Diagnostics& diags) { return Lowering(std::move(lab), diags).run(); }

}  // namespace topo
