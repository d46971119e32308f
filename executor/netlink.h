// RAII over libnl: every socket, cache and object topo holds is released by its owner,
// never by a naked *_free or *_put.
#pragma once

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "executor/fd.h"
#include "executor/transport.h"

namespace topo::nl {

struct SocketFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct MsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};

using Socket = std::unique_ptr<nl_sock, SocketFree>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;
using Addr = std::unique_ptr<nl_addr, AddrPut>;
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Msg = std::unique_ptr<nl_msg, MsgFree>;

/// libnl's text for one of its (negative) error codes.
std::string error_text(int nl_error);
/// The errno behind one of libnl's (negative) error codes, so that a KernelError carries
/// an errno whichever library saw it (EEXIST, not NLE_EXIST); 0 when there is none.
int errno_of(int nl_error);

/// A NETLINK_ROUTE socket opened inside `netns`: it keeps talking to that namespace after
/// the thread has left it. `what` names the namespace in errors.
Socket route_socket_in(const Fd& netns, const std::string& what);
/// The same, in the namespace the thread is in now.
Socket route_socket_here(const std::string& what);

/// Sends the requests many to a sendmsg and reads the ACK of every one, in order. The
/// kernel runs the requests of one send in order and goes on past a failed one, so this is
/// as checked as a request at a time, without a round trip each. The messages get their
/// sequence numbers and the ACK flag here. Throws KernelError when the socket fails.
/// Whatever else the kernel answers (what a request with NLM_F_ECHO made, say) goes to
/// `other`, when given.
std::vector<Ack> send_all(nl_sock* sock, const std::vector<Msg>& requests, const std::string& what,
                          const OnMessage& other = nullptr);

/// The name and interface group of every link the socket's namespace has: one dump,
/// parsed for just those two.
std::vector<std::pair<std::string, uint32_t>> link_groups(nl_sock* sock, const std::string& what);

/// Every route of the socket's namespace (all tables, both families), each as the kernel
/// sent it: libnl's route cache keeps one of two routes that differ in their device only,
/// as the prefix routes of two links of one namespace on one subnet do.
void each_route(nl_sock* sock, const std::string& what, const std::function<void(rtnl_route*)>& each);

/// Dumps the links (RTM_GETLINK) or the addresses (RTM_GETADDR) of the namespace of the
/// netlink socket `fd`
/// and hands each to `each` as libnl's own parser makes it (the object libnl's link or
/// address cache would hold), through dump(): an answer the kernel marks interrupted is
/// dumped again whole. libnl 3.7's cache refill restarts an interrupted dump without
/// emptying the cache, so what the first answer held came twice (the gateway address of a
/// 3000-member network, read while the kernel gave its ports their link-local addresses).
/// A link message libnl cannot take (decode_state.h's sound_link_message) is skipped.
void each_object(int fd, int type, const std::string& what, const std::function<void(nl_object*)>& each);

/// Dumps the qdiscs (RTM_GETQDISC) of the namespace of the netlink socket `fd`, handing each
/// message's bytes to `each` (decode_qdisc reads them).
void each_qdisc(int fd, const std::string& what, const std::function<void(std::span<const std::byte>)>& each);

/// Every bridge forwarding entry of the namespace (RTM_GETNEIGH, AF_BRIDGE), each
/// RTM_NEWNEIGH message's bytes to `each`.
void each_fdb_entry(int fd, const std::string& what, const std::function<void(std::span<const std::byte>)>& each);

/// The id that the socket's namespace gives the namespace `other` (RTM_GETNSID), as seen in
/// IFLA_LINK_NETNSID; -1 when it has none.
int nsid_of(nl_sock* sock, const Fd& other, const std::string& what);

}  // namespace topo::nl
