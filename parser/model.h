// The lab's graph, as the file describes it: namespaces, the interfaces in them and the
// edges between them (veth peers, bridge ports, underlay devices, routes through devices),
// plus the per-namespace settings (sysctls, files, NAT). Every value remembers where the
// file said it so that later stages can point at it. Pure values: no kernel here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "parser/address.h"
#include "parser/source.h"

namespace topo {

/// The namespace topo runs in; every `netns` key defaults to it.
inline constexpr std::string_view kHostNetns = "host";

struct Sysctl {
  Located<std::string> key;    // "net.ipv4.ip_forward"
  Located<std::string> value;  // integers are kept as their decimal text
  /// Of [host] in a lab over several machines: the one whose host it is set on, as the
  /// lowering places it; "" for the file's own (every machine's host).
  std::string machine;
};

/// One machine of a lab spread over several ([[machine]]): its name, and its underlay
/// address, where VXLANs to it end and how topo finds the machine it runs on.
struct Machine {
  Located<std::string> name;
  Located<IpAddress> address;
  std::optional<Located<std::string>> dev;  // the underlay device; default: the kernel's route
  Located<int64_t> mtu{1500, {}};           // the underlay's mtu (docs/machines.md)
  SourcePos pos;
};

/// The machine-wide limits `[host] limits` may raise (docs/format.md, "[host]"): keys the
/// kernel keeps once for every namespace, in the machine's first network namespace only.
inline constexpr std::string_view kMachineLimits[] = {
    "net.core.netdev_max_backlog",       "net.ipv4.neigh.default.gc_thresh1", "net.ipv4.neigh.default.gc_thresh2",
    "net.ipv4.neigh.default.gc_thresh3", "net.ipv6.neigh.default.gc_thresh1", "net.ipv6.neigh.default.gc_thresh2",
    "net.ipv6.neigh.default.gc_thresh3",
};

struct HostsEntry {
  Located<std::string> name;
  std::vector<Located<IpAddress>> addresses;
};

/// The default verdict of each filter chain in a namespace ([host.policy], [netns.policy]):
/// "accept" unless the file says "drop". A chain whose policy is drop exists even without
/// rules.
struct FilterPolicy {
  std::optional<Located<std::string>> forward, input, output;
};

enum class Proto { tcp, udp };
std::string_view to_string(Proto p);

/// Egress impairments of an interface (`shape` on a [[veth]] end, a [[link]], a network
/// membership), in tc's units as the file gives them; each key absent or set. A rate alone
/// is a tbf qdisc; any other key makes a netem one (planner/qdisc.h).
struct Shape {
  std::optional<uint64_t> rate;                               // bytes per second, as tc takes "10mbit"
  std::optional<uint64_t> delay;                              // microseconds
  std::optional<uint64_t> jitter;                             // microseconds; needs delay
  std::optional<uint32_t> loss, duplicate, corrupt, reorder;  // ten-thousandths of a percent
  std::optional<uint32_t> limit;                              // packets (netem's queue)

  /// Whether it takes netem: any key but rate.
  bool netem() const { return delay || jitter || loss || duplicate || corrupt || reorder || limit; }
  bool operator==(const Shape&) const = default;
};

/// One network a namespace is on ([[netns]] networks = ["front", { network = "back", ... }]):
/// a veth from the namespace to the network's bridge (lower/).
struct Membership {
  Located<std::string> network;
  std::optional<Located<IpPrefix>> address;  // explicit: "172.21.0.10/24"
  std::optional<Located<std::string>> name;  // the interface inside; default eth0, eth1, ...
  std::optional<Located<Shape>> shape;       // of the interface inside
  SourcePos pos;
};

/// A published port ([[netns]] publish = ["8080:80/tcp"]), Docker's -p HOSTPORT:PORT[/PROTO]:
/// a dnat in the gateway's namespace to the member's first address.
struct Publish {
  int64_t host_port = 0;
  int64_t port = 0;
  std::optional<Proto> proto;  // tcp when not given
};

struct Netns {
  Located<std::string> name;
  FilterPolicy policy;
  // Adopted namespaces exist already (a container's); the lab names them, never deletes them.
  std::optional<Located<int64_t>> pid;
  std::optional<Located<std::string>> path;
  std::vector<Sysctl> sysctls;
  std::vector<Located<IpAddress>> dns;  // -> /etc/netns/NAME/resolv.conf
  std::vector<HostsEntry> hosts;        // -> /etc/netns/NAME/hosts
  std::vector<Membership> networks;     // lowered by lower/ to veths, addresses, routes
  std::vector<Located<Publish>> publish;
  std::optional<Located<int64_t>> count;        // a group: NAME1 ... NAMEN (lower/)
  std::optional<Located<std::string>> machine;  // a [[machine]]'s name; default the first
  SourcePos pos;                                // the [[netns]] header

  bool adopted() const { return pid.has_value() || path.has_value(); }
};

// Kind-specific parts of an interface.
struct Bridge {
  // Forwarding between two isolated bridges of one namespace is dropped (Docker's network
  // isolation); ports of one bridge still reach each other, and the world through NAT.
  bool isolate = false;                            // isolate = true
  std::vector<Located<std::string>> isolate_from;  // isolate = ["br-b"]: from these only
};

struct VethEnd {
  size_t peer = 0;  // index of the other end in Lab::interfaces
  char end = 'a';   // which end of the [[veth]] this is
};

struct Vxlan {
  Located<int64_t> id;
  std::optional<Located<IpAddress>> local;
  std::optional<Located<IpAddress>> remote;  // unicast peer, or
  std::optional<Located<IpAddress>> group;   // multicast group (needs dev), or
  std::vector<Located<IpAddress>> remotes;   // unicast peers, each sent every flood (sorted)
  std::optional<Located<std::string>> dev;   // underlay interface, in the underlay's namespace
  /// Where its UDP socket (and `dev`) are, when not its own namespace: made there, then
  /// moved (a [[link]] across machines ends in a namespace; its tunnel runs in host).
  std::optional<Located<std::string>> underlay_netns;
  Located<int64_t> port{4789, {}};
  /// The interface the lowering joins it to at layer 2 (a [[link]]'s other end across
  /// machines, a spanning network's first VXLAN), for the routing graph; an index in the
  /// whole lab's interfaces, none in a machine's slice.
  std::optional<size_t> peer;
};

enum class MacvlanMode { bridge, private_, vepa, passthru };
std::string_view to_string(MacvlanMode m);

struct Macvlan {
  Located<std::string> parent;
  Located<std::string> parent_netns{std::string(kHostNetns), {}};
  MacvlanMode mode = MacvlanMode::bridge;
};

using LinkSpec = std::variant<Bridge, VethEnd, Vxlan, Macvlan>;
enum class LinkKind { bridge, veth, vxlan, macvlan };  // in LinkSpec's order
std::string_view to_string(LinkKind k);

/// What the lowering made an interface for: a network's bridge, a piece of its segment
/// (a leaf bridge, a veth end between root and leaf), or a member's veth end, on the bridge
/// or inside the member.
struct Origin {
  enum class Role { bridge, segment, member_end, inside, link };
  std::string network;  // for link: "leaf1 - spine1", its ends
  Role role = Role::bridge;
  std::string member;  // for member_end and inside
};

/// One kernel interface the lab creates (a [[veth]] makes two).
struct Interface {
  Located<std::string> netns{std::string(kHostNetns), {}};
  Located<std::string> name;
  std::vector<Located<IpPrefix>> addresses;
  std::optional<Located<int64_t>> mtu;
  std::optional<Located<MacAddress>> mac;
  std::optional<Located<std::string>> master;  // a bridge in the same namespace
  /// false: the kernel gives the link no IPv6 link-local address (addrgenmode none)
  bool link_local = true;
  std::optional<Located<Shape>> shape;  // veth ends only: the root qdisc of its egress
  LinkSpec spec;
  std::string machine;           // the [[machine]] it is on, placed by the lowering; "" in one
  SourcePos pos;                 // the table that declares it
  std::string where;             // how messages name its table: "[[veth]] end 'a'"
  std::optional<Origin> origin;  // set by the lowering (lower/lower.h); none when the file writes it

  LinkKind kind() const { return static_cast<LinkKind>(spec.index()); }
};

struct Route {
  Located<std::string> netns{std::string(kHostNetns), {}};
  Located<IpPrefix> to;  // "default" is 0.0.0.0/0 (or ::/0 when via is IPv6)
  std::optional<Located<IpAddress>> via;
  /// via = ["10.0.0.1", "10.0.0.3"]: an equal-cost multipath route over these gateways
  /// (two or more, sorted, `via` and `dev` unset): each one's link is the kernel's to find.
  std::vector<Located<IpAddress>> multipath;
  std::optional<Located<std::string>> dev;
  std::optional<Located<int64_t>> metric;
  SourcePos pos;
  /// Set by the lowering for a route `routing = "static"` computed; false for the file's.
  bool computed = false;
  std::string machine;  // as Interface::machine

  /// Its gateways: `via`, or the multipath ones; none for a route onto a link.
  std::vector<const Located<IpAddress>*> gateways() const;

  /// The metric the kernel stores: IPv6 takes 0 (or none) as 1024, its default.
  int64_t kernel_metric() const;
};

enum class NatKind { masquerade, snat, dnat };
std::string_view to_string(NatKind k);

struct Nat {
  Located<std::string> netns{std::string(kHostNetns), {}};
  Located<NatKind> kind;
  std::optional<Located<IpPrefix>> source;  // masquerade, snat
  std::optional<Located<std::string>> out;  // masquerade, snat
  std::optional<Located<IpAddress>> to;     // snat: the address; dnat: where to
  std::optional<Located<int64_t>> to_port;  // dnat: "addr:port"
  std::optional<Located<Proto>> proto;      // dnat
  std::optional<Located<int64_t>> port;     // dnat
  std::optional<Located<std::string>> in;   // dnat
  bool not_out = false, not_in = false;     // "!eth0": every interface but eth0
  SourcePos pos;
  std::string machine;  // as Interface::machine

  /// The family the rule is limited to; nullopt for a masquerade by `out` alone (both).
  std::optional<Family> family() const;
};

/// How `topo test` tries to reach an address (docs/format.md, [[expect]]).
enum class ProbeProto { icmp, tcp, udp };
std::string_view to_string(ProbeProto p);

/// Seconds a probe waits for an answer when the file does not say.
inline constexpr double kDefaultProbeTimeout = 3.0;

/// One expectation of `topo test`: whether `from` reaches `to`.
struct Expect {
  Located<std::string> from;            // a namespace of the lab, or "host"
  Located<std::string> to;              // as written: an address, or a namespace name
  std::optional<IpAddress> to_address;  // set when `to` is an address
  Located<bool> reach;
  Located<ProbeProto> proto{ProbeProto::icmp, {}};
  std::optional<Located<int64_t>> port;  // tcp, udp
  Located<double> timeout{kDefaultProbeTimeout, {}};
  SourcePos pos;
  /// "* -> *" (as written) when `from` or `to` was "*" and the lowering made this one of
  /// the entry's many; "" otherwise.
  std::string group;
};

/// A port or a range of ports of a [[filter]] rule: `lo`..`hi`, hi == lo for one port.
struct PortRange {
  int64_t lo = 0, hi = 0;
};

/// One [[filter]] rule. A list of ports is one rule per element, in order.
struct Filter {
  Located<std::string> netns{std::string(kHostNetns), {}};
  Located<std::string> chain;                   // "forward", "input", "output"
  Located<std::string> action;                  // "accept", "drop", "reject"
  std::optional<Located<std::string>> in, out;  // interface names
  bool not_in = false, not_out = false;
  std::optional<Located<IpPrefix>> source, destination;
  bool not_source = false, not_destination = false;
  std::optional<Located<std::string>> proto;  // "tcp", "udp", "icmp", "icmpv6"
  std::vector<Located<PortRange>> ports;      // tcp, udp
  std::vector<Located<std::string>> state;    // "established", "related", "new"
  SourcePos pos;
  std::string machine;  // as Interface::machine
};

/// A Docker-style network ([[network]]): a bridge, by default in host, holding each subnet's
/// first address as its members' gateway. Lowered by lower/ to primitives.
struct Network {
  Located<std::string> name;
  std::vector<Located<IpPrefix>> subnets;  // at most one IPv4 and one IPv6
  bool masquerade = false;
  bool isolate = false;
  Located<std::string> netns{std::string(kHostNetns), {}};
  std::optional<Located<std::string>> bridge;  // default: the network's name
  bool gateway = true;
  std::optional<Located<int64_t>> mtu;
  std::optional<Located<std::string>> machine;  // where its gateway is; default the first
  std::optional<Located<int64_t>> vni;          // of its VXLANs across machines; default derived
  SourcePos pos;
};

/// A point-to-point link ([[link]]): one veth between two namespaces ("host" allowed), its
/// addresses from `subnets` or the lab's p2p pools (lower/).
struct Link {
  std::vector<Located<std::string>> ends;   // two namespaces
  std::vector<Located<IpPrefix>> subnets;   // explicit; at most one of each family
  std::vector<Located<std::string>> names;  // the two ends' interface names; default the peer's
  std::optional<Located<int64_t>> mtu;
  std::optional<Located<Shape>> shape;  // of both ends
  std::optional<Located<int64_t>> vni;  // across machines; default derived
  SourcePos pos;
};

/// How the lab's routes come about (routing = ...): only those the file writes, or also the
/// shortest paths between all its subnets, computed by the lowering.
enum class Routing { none, static_ };

struct Lab {
  Located<std::string> name;
  Located<Routing> routing{Routing::none, {}};
  /// [addressing] p2p: where [[link]] subnets come from, at most one pool of each family.
  std::vector<Located<IpPrefix>> p2p_pools;
  std::vector<Sysctl> host_sysctls;  // [host]
  std::vector<Sysctl> host_limits;   // [host] limits: each raised to at least its value
  FilterPolicy host_policy;          // [host.policy]
  std::vector<Netns> netns;
  std::vector<Interface> interfaces;
  std::vector<Route> routes;
  std::vector<Nat> nats;
  std::vector<Expect> expects;
  std::vector<Filter> filters;
  std::vector<Network> networks;  // empty once lowered (lower/lower.h)
  std::vector<Link> links;        // likewise
  std::vector<Machine> machines;  // none: the lab is on the one machine topo runs on

  const Netns* find_netns(std::string_view name) const;
  /// The sysctls of namespace `ns` ([host] for "host"); nullptr for no namespace of the lab.
  std::vector<Sysctl>* sysctls_of(std::string_view ns);
  const Interface* find_interface(std::string_view netns, std::string_view name) const;
  /// "host" followed by the lab's namespaces, in file order.
  std::vector<std::string> namespace_names() const;
  /// The first address the file gives an interface of namespace `ns` (file order): what an
  /// expectation's `to = "NS"` means. nullopt when the lab gives it none.
  std::optional<IpAddress> first_address(std::string_view ns) const;
};

}  // namespace topo
