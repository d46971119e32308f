// The kernel's answers in topo's words: a libnl link, address or route object decoded into
// the state reader's values. The reader (executor/read_state.cpp) feeds it the objects of
// its dumps; decode_dump() feeds it raw dump bytes, so that tests and the fuzzer
// (fuzz/fuzz_state.cpp) run the very code the reader runs. The kernel's answers are input
// like a lab file: an adopted namespace's links can be named and set up anyhow.
#pragma once

#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "planner/state.h"

namespace topo {

/// A link as dumped, before its references (peer, master, parent, underlay) are names.
struct RawLink {
  LinkState state;
  int ifindex = 0;
  int link_ifindex = 0;  // IFLA_LINK: a veth's peer, a macvlan's parent
  // IFLA_LINK_NETNSID: where that one lives; absent when here. Negative when the kernel has
  // no id for it from here: a namespace being deleted (evolve seed 64: a veth whose other
  // end's namespace a killed run had just deleted was read as joined to a bridge here).
  std::optional<int> link_nsid;
  int master_ifindex = 0;
  int vxlan_dev_ifindex = 0;
};

/// One namespace as its dumps say it, each part added as the reader reads it: links first
/// (addresses and routes name them by ifindex), then addresses, then routes.
struct RawNamespace {
  std::string mark;            // alias of its lo: which lab created it
  std::vector<RawLink> links;  // every link but lo, in the dump's order
  std::vector<RouteState> routes;

  /// A link of the dump; lo gives the mark instead.
  void add_link(rtnl_link* l);
  /// An address of the dump, on the links of that ifindex; IPv6 link-local ones (the
  /// kernel's own, made for every IPv6 link) and non-IP ones are left out.
  void add_address(rtnl_addr* a);
  /// Once every address is added: each link's in the state's order (in_address_order).
  void order_addresses();
  /// A route of the dump: unicast routes of the main table only, but IPv6 link-local ones.
  void add_route(rtnl_route* r);
  /// Once every route is added: the routes of one key (destination, metric) in their
  /// device's name order (their order in the kernel follows which link got its address
  /// first, which a rollback that makes them again need not keep).
  void order_routes();
  /// A qdisc of the dump (RTM_NEWQDISC, its bytes): a root one the kernel did not attach by
  /// itself goes on its link (decode_qdisc); anything else is left.
  void add_qdisc(std::span<const std::byte> message);
  /// A VXLAN's all-zeros forwarding entry (executor/fdb_message.h), one of its remotes;
  /// the kernel's own for its `remote` is none.
  void add_flood_entry(std::span<const std::byte> message);
  /// The name of this namespace's link `ifindex`: "" when there is none, "lo" for 1.
  std::string name_of(int ifindex) const;
  /// Names what the links refer to by ifindex in this namespace, which is called `netns`:
  /// masters, VXLAN devices, and veth peers and macvlan parents that have no
  /// IFLA_LINK_NETNSID. Those in another namespace are the reader's to name, which knows
  /// the namespaces' ids; until then they are in kUnknownNetns.
  void name_local_references(const std::string& netns);
};

/// Sets a veth's peer or a macvlan's parent; nothing for another kind.
void set_other_end(LinkState& s, const std::string& netns, const std::string& name);

/// An IPv4 or IPv6 address as libnl holds it; nullopt for another family or none.
std::optional<IpAddress> address_of(nl_addr* a);

/// A message of a dump that decode_dump() could not use, and why.
struct DumpError {
  enum class Kind {
    truncated,   // a header or length that runs past the bytes (the rest is not read)
    unparsable,  // a link, address or route that libnl refuses (nl_error says why)
    unsound,     // a link or route libnl 3.7 would crash or hang on (see below)
    error,       // an NLMSG_ERROR: the kernel refused the dump (nl_error is its errno, negated)
    unexpected,  // another type of message, skipped
  };
  Kind kind;
  size_t offset = 0;  // of the message in the bytes
  int nl_error = 0;
  bool operator==(const DumpError&) const = default;
};

struct DecodedDump {
  RawNamespace ns;  // references named within the namespace (name_local_references)
  std::vector<DumpError> errors;
};

/// Whether libnl can be given this RTM_NEWLINK message. libnl 3.7 trusts the shape of what
/// the kernel sends: it reads through a null pointer on an IFLA_INFO_XSTATS without
/// IFLA_INFO_DATA (any kind) and on a veth's VETH_INFO_PEER (which only requests carry), and
/// a VXLAN or macvlan without IFLA_INFO_DATA comes out without its data, which its getters
/// read through a null pointer too. The kernel always sends the data of those two, and never
/// the others; nl::each_object (read_state's dumps) and decode_dump check here.
/// The message's length must have been checked against its bytes.
bool sound_link_message(const nlmsghdr* h);

/// Whether libnl can be given this RTM_NEWROUTE message. libnl 3.7 walks RTA_MULTIPATH's
/// nexthops by their own lengths: on one of length 0 it loops for ever, making nexthops
/// until memory runs out, and past the attribute's end when the last one's padding is not
/// there (its count of what is left wraps). The kernel never sends either. The message's
/// length must have been checked against its bytes.
bool sound_route_message(const nlmsghdr* h);

/// What parse_message says of a message libnl must not be given (sound_link_message,
/// sound_route_message).
inline constexpr int kUnsound = 1;

/// Parses one RTM_NEWLINK, RTM_NEWADDR or RTM_NEWROUTE message, `message` being its bytes
/// (its nlmsg_len of them, in any alignment), with libnl's own parser as libnl reads it
/// from a socket, and hands the object to `each` while libnl holds it. Returns 0, libnl's
/// error (< 0), or kUnsound. The one parser of the live reader's dumps (nl::each_object,
/// nl::each_route) and of decode_dump.
int parse_message(std::span<const std::byte> message, const std::function<void(nl_object*)>& each);

/// Decodes the answers to link, address, route and qdisc dumps of the namespace `netns`: a
/// sequence of netlink messages (RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWQDISC,
/// NLMSG_DONE) as the
/// kernel sends them, in any order and from any number of reads put end to end. Whatever
/// the bytes, it returns: a bad message is skipped and told in `errors`.
DecodedDump decode_dump(std::span<const std::byte> bytes, const std::string& netns = "");

}  // namespace topo
