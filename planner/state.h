// Network state as plain values, in one vocabulary for both sides of the diff: what the
// kernel has now (the state reader fills it from netlink dumps; tests build it by hand) and
// what it should have once the lab is applied (expected_state() derives it from the Lab).
// Comparing like with like keeps the differ small, and makes every inverse a swap of
// before and after.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lower/link_names.h"
#include "parser/address.h"
#include "parser/model.h"
#include "planner/qdisc.h"

namespace topo {

/// The mark topo puts on what a lab creates: the alias of every link it creates, and the
/// alias of `lo` in every namespace it creates. Anything without it is not the lab's.
std::string ownership_mark(std::string_view lab);
/// The lab named by a mark, or "" when `alias` is not a topo mark.
std::string lab_of_mark(std::string_view alias);

/// The interface group of a lab's veth ends in namespaces it does not own (host, adopted)
/// whose other end is in one it does: destroy deletes them all with one request for the
/// group. A hash of the lab's name (FNV-1a) in 0x10000000..0x3fffffff, above the groups
/// people number by hand.
uint32_t ownership_group(std::string_view lab);

/// Routes topo adds carry this protocol number (rtm_protocol), so that in namespaces the
/// lab does not own (host, adopted) its routes are told apart from everyone else's.
inline constexpr int kRouteProtocol = 122;  // unassigned in iproute2's rt_protos
/// The protocol of the routes the kernel makes itself (RTPROT_KERNEL): an address's subnet.
inline constexpr int kKernelRouteProtocol = 2;

/// The nftables table (family inet) that holds a lab's NAT rules in each namespace where it
/// has some: "topo-LAB". Its comment is the ownership mark; a table of that name without it
/// is someone else's.
std::string nat_table_name(std::string_view lab);

/// A veth peer's or macvlan parent's namespace when it is none that topo read.
inline constexpr std::string_view kUnknownNetns = "?";

/// What only a bridge has of its own: nothing yet, but its kind.
struct BridgeState {
  bool operator==(const BridgeState&) const = default;
};

/// A veth end's other end. peer_netns is kUnknownNetns (and peer_name "") when the other
/// end is in a namespace topo did not read, which is never the lab's.
struct VethState {
  std::string peer_netns, peer_name;
  bool operator==(const VethState&) const = default;
};

struct VxlanState {
  int64_t id = -1;
  std::optional<IpAddress> local, remote, group;
  /// The unicast peers of its all-zeros forwarding entries (`bridge fdb append 00:00:00:00:00:00
  /// dst ...`), sorted: each gets every flooded frame. The kernel's own entry for `remote`
  /// is not among them.
  std::vector<IpAddress> remotes;
  std::string dev;             // the underlay, in `underlay_netns`; "" when none
  std::string underlay_netns;  // where its UDP socket is, "" when in its own namespace
  int64_t port = 0;

  /// The namespace of its socket and `dev`, the VXLAN being in `netns`.
  const std::string& socket_netns(const std::string& netns) const {
    return underlay_netns.empty() ? netns : underlay_netns;
  }
  bool operator==(const VxlanState&) const = default;
};

struct MacvlanState {
  std::string mode;  // "bridge", "private", "vepa", "passthru", "source"
  std::string parent, parent_netns;
  bool operator==(const MacvlanState&) const = default;
};

/// A kind of link topo does not make (dummy, tun, the machine's own ethernet), which the
/// reader finds in the way or under the lab's links: the kernel's name for it ("" for
/// none, as an ethernet device).
struct OtherLinkState {
  std::string kernel_name;
  bool operator==(const OtherLinkState&) const = default;
};

/// A link's kind with what only that kind has: a kind topo does not make (the default, as
/// nothing is known of a link yet), then LinkKind's in its order.
using LinkKindState = std::variant<OtherLinkState, BridgeState, VethState, VxlanState, MacvlanState>;

/// The kind the kernel names so ("veth", "bridge", "vxlan", "macvlan"; any other is an
/// OtherLinkState of that name), with nothing of its own set yet.
LinkKindState kind_named(std::string_view kernel_name);

/// Words for plan lines about where an expected object comes from; empty in what is read
/// from the kernel. A note, not state: any two compare equal, so it never makes a difference.
struct PlanNote {
  std::string text;
  bool operator==(const PlanNote&) const { return true; }
};

struct LinkState {
  std::string name;
  LinkKindState kind;
  std::string alias;              // the ownership mark when the link is a lab's
  int64_t mtu = 0;                // 0 in an expected state: the lab leaves it to the kernel
  std::optional<MacAddress> mac;  // nullopt in an expected state: likewise
  bool up = false;
  std::string master;               // a bridge in the same namespace; "" when none
  uint32_t group = 0;               // the interface group (IFLA_GROUP); 0 is the kernel's default
  std::vector<IpPrefix> addresses;  // sorted; IPv6 link-local ones are the kernel's, left out
  /// Whether the kernel gives the link an IPv6 link-local address (addr_gen_mode not none).
  /// Set at birth, before the link comes up: the kernel neither takes an address it made
  /// back nor makes one for a link already up, so a change makes the link again.
  bool link_local = true;
  /// Its root qdisc when it is not the kernel's default (a `shape`, or one made by hand);
  /// nullopt: the kernel's (noqueue, or whatever the kernel attaches by itself).
  std::optional<Qdisc> qdisc;
  /// Where the file makes the link when the lowering made it ("network front, member web"),
  /// for plan lines; empty otherwise and in what is read from the kernel.
  PlanNote origin;

  bool is(LinkKind k) const { return kind.index() == static_cast<size_t>(k) + 1; }
  /// "veth", "bridge", "vxlan", "macvlan", or the kernel's name for another kind.
  std::string_view kind_name() const;
  const VethState* veth() const { return std::get_if<VethState>(&kind); }
  const VxlanState* vxlan() const { return std::get_if<VxlanState>(&kind); }
  const MacvlanState* macvlan() const { return std::get_if<MacvlanState>(&kind); }
  VethState* veth() { return std::get_if<VethState>(&kind); }
  VxlanState* vxlan() { return std::get_if<VxlanState>(&kind); }
  MacvlanState* macvlan() { return std::get_if<MacvlanState>(&kind); }
  /// The link whose deletion takes this one along, by namespace and name, `netns` being
  /// this link's: a VXLAN's underlay, a macvlan's parent; nullopt for others.
  std::optional<std::pair<std::string, std::string>> underlay(const std::string& netns) const;

  /// The attributes the kernel cannot change on a live link (kind, peer, VXLAN and macvlan
  /// parameters): when they differ the link must be deleted and created again. A VXLAN's
  /// `remotes` are forwarding entries, added and deleted on the live link.
  bool same_identity(const LinkState& other) const;
  /// Its VXLAN remotes; none for another kind.
  const std::vector<IpAddress>& remotes() const;
  bool operator==(const LinkState&) const = default;
};

/// The interface a sysctl key names ("net.ipv4.conf.eth0.forwarding" -> "eth0"), or "" for
/// a namespace-wide one ("net.ipv4.conf.all.forwarding", "net.ipv4.ip_forward").
std::string sysctl_interface(const std::string& key);

/// Whether the kernel drops this address from a link that goes down: the IPv6 ones (unless
/// net.ipv6.conf.IF.keep_addr_on_down is set, which topo never does).
bool dropped_on_down(const IpPrefix& p);

/// Whether two IPv4 interface addresses are on the same subnet (network and prefix length):
/// the kernel makes the first of a subnet on a link its primary, the others secondaries.
bool same_subnet(const IpPrefix& a, const IpPrefix& b);

/// A link's addresses as its state holds them: sorted, except that each IPv4 subnet's
/// addresses keep `kernel`'s order (primary first) in the places the sorted order gives
/// them. A fresh apply adds them sorted, so the file's state has each subnet's lowest
/// address primary; after edits the kernel may have another, and the diff sees it.
std::vector<IpPrefix> in_address_order(const std::vector<IpPrefix>& kernel);

/// The addresses a change from `before` to `after` must remove itself: those `before` has
/// and `after` has not, but for those the kernel drops on its own from a link going down,
/// or whose mtu goes below 1280 (asked to, it would answer "address not found", or that
/// IPv6 is disabled on the device).
std::vector<IpPrefix> addresses_to_remove(const LinkState& before, const LinkState& after);

/// How a link's addresses go from `before` to `after`, for the executor and the shell plan
/// alike. New addresses are added before old ones go: a link left without an IPv4 address
/// for a moment has every route through it flushed by the kernel. Old ones are deleted with
/// net.ipv4.conf.IF.promote_secondaries on (`promote`) when IPv4 addresses stay, or the
/// kernel would delete the secondaries of a primary it deletes (when none stays, the
/// secondaries go first). Only an IPv6 address that
/// comes back with another prefix length goes first: the kernel keys IPv6 addresses by
/// address alone, and would refuse the new one.
///
/// The IPv4 addresses of one subnet on a link (the same network and prefix length) are in
/// an order that matters: the first is the primary, the source of what leaves through the
/// subnet. Where the change would leave a subnet in another order than `after`'s, that
/// subnet is seated again: its first address stays (or is added), the others are deleted
/// (`then`) and added again after it in order (`again`).
struct AddressChange {
  std::vector<IpPrefix> first, added, then, again;
  bool promote = false;
};
AddressChange address_change(const LinkState& before, const LinkState& after);

/// One of a multipath route's next hops (RTA_MULTIPATH). `weight` is iproute2's: the
/// kernel's rtnh_hops plus one; topo's routes give every hop the same, 1.
struct NextHop {
  std::optional<IpAddress> via;
  std::string dev;  // "" in an expected state: the kernel finds it from the gateway
  int weight = 1;

  auto operator<=>(const NextHop&) const = default;
};

/// A route of the main table. A route with one path has `via` and `dev`; one over several
/// (equal-cost multipath) has them empty and its paths in `multipath`, sorted (two or
/// more), as the kernel's messages say the two (RTA_GATEWAY and RTA_OIF, or RTA_MULTIPATH).
struct RouteState {
  IpPrefix to;
  std::optional<IpAddress> via;
  std::string dev;
  std::vector<NextHop> multipath;
  int64_t metric = 0;
  int protocol = kRouteProtocol;
  PlanNote origin;  // "computed" for a route routing = "static" made

  /// Whether it goes through a gateway (or several), not straight onto a link.
  bool has_gateway() const { return via || !multipath.empty(); }
  /// The devices the route goes through, "" left out.
  std::vector<std::string> devs() const;
  bool through(std::string_view link) const;
  /// Whether `have`, as the kernel holds it, takes the paths of this route, as an expected
  /// state says them: the same gateways and weights, and the same devices where this one
  /// names them.
  bool paths_met_by(const RouteState& have) const;

  /// The kernel's key for a route in the main table: destination and metric.
  bool same_key(const RouteState& other) const { return to == other.to && metric == other.metric; }
  bool operator==(const RouteState&) const = default;
};

/// What a rule of the lab's table does: a NAT (masquerade, snat, dnat) or filter (accept,
/// drop, reject) rule as the file says them, or `foreign`: one topo does not make.
enum class RuleKind { foreign, masquerade, snat, dnat, accept, drop, reject };
/// "masquerade"... as the file writes it; "foreign" for a rule topo does not make.
std::string_view to_string(RuleKind k);
/// The kind the file names so (never `foreign`); nullopt for a name that is none.
std::optional<RuleKind> rule_kind_named(std::string_view name);

/// One rule as the lab's table holds it, in the words of the file (docs/format.md, [[nat]]
/// and [[filter]]): a NAT rule (kind masquerade, snat, dnat) or a filter rule (kind accept,
/// drop, reject; planner/filter.h). The reader decodes the kernel's expressions into it, so that the differ
/// compares values, not bytes.
struct NftRule {
  RuleKind kind = RuleKind::foreign;
  std::optional<Family> family;    // nullopt: both (a masquerade by `out` alone)
  std::optional<IpPrefix> source;  // masquerade, snat: the source network
  std::string out;                 // masquerade, snat: output interface name ("" any)
  std::string in;                  // dnat: input interface name ("" any)
  std::string proto;               // dnat: "tcp" or "udp"
  int64_t port = 0;                // dnat: the namespace's own port that is mapped
  std::optional<IpAddress> to;     // snat: the new source; dnat: the new destination
  int64_t to_port = 0;             // dnat: the new port; 0 keeps it
  std::string foreign;             // reader: a rule topo would not make, as libnftnl prints it

  // Filter rules only: `in`, `out` and `source` above, and `proto` also "icmp"/"icmpv6".
  std::optional<IpPrefix> destination;
  bool not_in = false, not_out = false, not_source = false, not_destination = false;
  int64_t port_max = 0;            // a range `port`-`port_max`; 0 for one port
  std::vector<std::string> state;  // conntrack states, in the order established, related, new

  bool is_filter() const { return kind == RuleKind::accept || kind == RuleKind::drop || kind == RuleKind::reject; }

  bool operator==(const NftRule&) const = default;
};

/// A chain of the lab's table: NAT chains ("prerouting", "output", "postrouting"), and
/// filter chains ("filter-forward", "filter-input", "filter-output").
struct NftChain {
  std::string name;
  std::string type;    // "nat" or "filter"
  std::string hook;    // "prerouting", "forward"...; "" for a chain without one
  int priority = 0;    // -100 (dstnat), 100 (srcnat), kFilterPriority
  std::string policy;  // "accept" or "drop"
  std::vector<NftRule> rules;

  bool operator==(const NftChain&) const = default;
};

/// The whole content of a lab's nftables table (its NAT and filter rules) in one namespace:
/// what apply writes in one nftables batch, and what the reader finds.
struct NftTable {
  std::string name;    // nat_table_name(lab); family inet
  std::string mark;    // its comment: ownership_mark(lab) when the table is the lab's
  uint32_t flags = 0;  // table flags (dormant...): topo's tables have none
  std::vector<NftChain> chains;
  /// reader: the kernel's handle for the table, so that apply deletes the very table it
  /// read, not one of the same name made since; 0 in an expected state. Not part of the
  /// value: two tables with the same content are equal.
  uint64_t handle = 0;

  const NftChain* find_chain(std::string_view name) const;
  bool operator==(const NftTable& o) const {
    return name == o.name && mark == o.mark && flags == o.flags && chains == o.chains;
  }
};

struct NamespaceState {
  bool exists = false;
  bool adopted = false;  // expected state only: exists already, the lab never deletes it
  std::string path;      // expected state only: its namespace file; "" for host (topo's own)
  // Expected state only: a namespace the lab adopted under this name, which the file now
  // adopts under another: only the /etc/netns files of the old name are read, and go.
  bool files_only = false;
  std::string mark;  // alias of its lo: which lab created it ("" when none)
  std::vector<LinkState> links;
  std::vector<RouteState> routes;
  std::map<std::string, std::string> sysctls;  // observed: only the keys the lab names
  /// expected state only: the keys of `sysctls` that are originals put back, not the file's
  /// (one of an interface that is gone has nothing left to put back)
  std::set<std::string> put_backs;
  /// expected state only: the keys of `sysctls` that are machine limits ([host] limits):
  /// at least their value, and nothing to do where the kernel has no such key
  std::set<std::string> at_least;
  std::map<std::string, std::string> files;  // "resolv.conf", "hosts" in /etc/netns/NAME
  std::optional<NftTable> nat;               // the lab's table (NAT and filter rules); nullopt when none

  const LinkState* find_link(std::string_view name) const;
  bool operator==(const NamespaceState&) const = default;
};

/// Namespaces by name; "host" is the one topo runs in.
struct State {
  std::map<std::string, NamespaceState> namespaces;

  const NamespaceState* find(std::string_view netns) const;
  bool operator==(const State&) const = default;
};

}  // namespace topo
