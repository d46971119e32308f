#include "executor/netlink.h"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/route.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "executor/decode_state.h"
#include "executor/fdb_message.h"
#include "executor/kernel_error.h"
#include "executor/netns.h"

namespace topo::nl {

std::string error_text(int nl_error) { return nl_geterror(nl_error); }

int errno_of(int nl_error) {
  switch (-nl_error) {
    case NLE_EXIST: return EEXIST;
    case NLE_BUSY: return EBUSY;
    case NLE_NOMEM: return ENOMEM;
    case NLE_PERM: return EPERM;
    case NLE_NOACCESS: return EACCES;
    case NLE_INVAL: return EINVAL;
    case NLE_RANGE: return ERANGE;
    case NLE_NODEV: return ENODEV;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AGAIN: return EAGAIN;
    case NLE_INTR: return EINTR;
    default: return 0;
  }
}

Socket route_socket_in(const Fd& netns, const std::string& what) {
  InNetns inside(netns);
  return route_socket_here(what);
}

Socket route_socket_here(const std::string& what) {
  Socket sock(nl_socket_alloc());
  if (!sock) throw KernelError("opening a netlink socket in", what, "out of memory");
  errno = 0;
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    // libnl says "Unspecific failure" for errors it has no code of its own for, EMFILE
    // among them: the system's words are more use.
    int sys = errno;
    if (err == -NLE_FAILURE && sys != 0)
      throw KernelError("opening a netlink socket in", what, std::strerror(sys), sys);
    throw KernelError("opening a netlink socket in", what, error_text(err));
  }
  // Large labs dump thousands of objects: give the kernel room rather than lose messages.
  nl_socket_set_buffer_size(sock.get(), 4 << 20, 1 << 20);
  // One recvmsg a message, not a peek at its size first and then the read: the kernel
  // never makes a dump message over 32 KiB, so a 64 KiB buffer always holds it.
  nl_socket_set_msg_buf_size(sock.get(), 64 << 10);
  nl_socket_disable_msg_peek(sock.get());
  // Once here, not per batch (12,000 setsockopt calls at 1000 namespaces).
  ask_for_short_acks(nl_socket_get_fd(sock.get()));
  return sock;
}

namespace {

struct NsidReply {
  int id = -1;
  bool seen = false;
};

int parse_nsid(nl_msg* msg, void* arg) {
  auto* reply = static_cast<NsidReply*>(arg);
  reply->seen = true;
  nlattr* attrs[NETNSA_MAX + 1];
  if (nlmsg_parse(nlmsg_hdr(msg), sizeof(rtgenmsg), attrs, NETNSA_MAX, nullptr) == 0 && attrs[NETNSA_NSID])
    reply->id = static_cast<int32_t>(nla_get_u32(attrs[NETNSA_NSID]));
  return NL_STOP;
}

// At most this many requests in flight: their ACKs must fit the socket's receive buffer
// (an ACK costs the buffer about 1 KiB, and the default is 208 KiB), or the kernel drops them.
constexpr size_t kInFlight = 64;

// Far from libnl's own numbers on the socket, which count up from the time.
constexpr uint32_t kFirstSeq = 1u << 30;

// A dumped message's bytes, as parse_message takes them (dump() checked its length).
std::span<const std::byte> message_bytes(const nlmsghdr* h) {
  return {reinterpret_cast<const std::byte*>(h), h->nlmsg_len};
}

}  // namespace

std::vector<Ack> send_all(nl_sock* sock, const std::vector<Msg>& requests, const std::string& what,
                          const OnMessage& other) {
  std::vector<Ack> acks;
  acks.reserve(requests.size());
  for (size_t from = 0; from < requests.size(); from += kInFlight) {
    size_t to = std::min(requests.size(), from + kInFlight);
    std::vector<iovec> iov;
    for (size_t i = from; i < to; ++i) {
      nlmsghdr* h = nlmsg_hdr(requests[i].get());
      h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
      h->nlmsg_seq = kFirstSeq + static_cast<uint32_t>(i);
      h->nlmsg_pid = 0;
      iov.push_back({h, h->nlmsg_len});
    }
    for (Ack& a : exchange(nl_socket_get_fd(sock), iov, what, other)) acks.push_back(std::move(a));
  }
  return acks;
}

std::vector<std::pair<std::string, uint32_t>> link_groups(nl_sock* sock, const std::string& what) {
  Msg msg(nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP));
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  // Without statistics: most of each link's answer, and a thousand links are read here.
  if (!msg || nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
      nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
    throw KernelError("reading links in", what, "out of memory");
  std::vector<std::pair<std::string, uint32_t>> out;
  dump(nl_socket_get_fd(sock), nlmsg_hdr(msg.get()), "the links of " + what, [&](const nlmsghdr* c) {
    auto* h = const_cast<nlmsghdr*>(c);  // libnl's parsers take it non-const; they only read
    nlattr* attrs[IFLA_MAX + 1];
    if (h->nlmsg_type != RTM_NEWLINK || nlmsg_parse(h, sizeof(ifinfomsg), attrs, IFLA_MAX, nullptr) < 0 ||
        !attrs[IFLA_IFNAME])
      return;
    out.emplace_back(nla_get_string(attrs[IFLA_IFNAME]), attrs[IFLA_GROUP] ? nla_get_u32(attrs[IFLA_GROUP]) : 0);
  });
  return out;
}

void each_route(nl_sock* sock, const std::string& what, const std::function<void(rtnl_route*)>& each) {
  Msg msg(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP));
  rtmsg rtm{};
  rtm.rtm_family = AF_UNSPEC;
  if (!msg || nlmsg_append(msg.get(), &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0)
    throw KernelError("reading routes in", what, "out of memory");
  dump(nl_socket_get_fd(sock), nlmsg_hdr(msg.get()), "the routes of " + what, [&](const nlmsghdr* c) {
    if (c->nlmsg_type != RTM_NEWROUTE) return;
    auto route = [&](nl_object* o) { each(reinterpret_cast<rtnl_route*>(o)); };
    if (int err = parse_message(message_bytes(c), route); err < 0)
      throw KernelError("reading routes in", what, error_text(err));
  });
}

void each_object(int fd, int type, const std::string& what, const std::function<void(nl_object*)>& each) {
  Msg msg(nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP));
  ifinfomsg header{};  // an ifaddrmsg is smaller and starts alike: family AF_UNSPEC, the rest 0
  header.ifi_family = AF_UNSPEC;
  size_t size = type == RTM_GETLINK ? sizeof(ifinfomsg) : sizeof(ifaddrmsg);
  if (!msg || nlmsg_append(msg.get(), &header, size, NLMSG_ALIGNTO) < 0)
    throw KernelError("reading", what, "out of memory");
  const int answer = type == RTM_GETLINK ? RTM_NEWLINK : RTM_NEWADDR;
  dump(fd, nlmsg_hdr(msg.get()), what, [&](const nlmsghdr* c) {
    if (c->nlmsg_type != answer) return;
    if (int err = parse_message(message_bytes(c), each); err < 0)  // kUnsound: skipped, as libnl cannot take it
      throw KernelError("reading", what, error_text(err));
  });
}

void each_qdisc(int fd, const std::string& what, const std::function<void(std::span<const std::byte>)>& each) {
  // A tcmsg of zeros: every qdisc of every link.
  struct {
    nlmsghdr h;
    tcmsg t;
  } request{};
  request.h.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
  request.h.nlmsg_type = RTM_GETQDISC;
  request.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  dump(fd, &request.h, "the qdiscs of " + what, [&](const nlmsghdr* c) {
    if (c->nlmsg_type == RTM_NEWQDISC) each(message_bytes(c));
  });
}

void each_fdb_entry(int fd, const std::string& what, const std::function<void(std::span<const std::byte>)>& each) {
  std::vector<std::byte> request = fdb_dump_request();
  dump(fd, reinterpret_cast<nlmsghdr*>(request.data()), "the forwarding entries of " + what, [&](const nlmsghdr* c) {
    if (c->nlmsg_type == RTM_NEWNEIGH) each(message_bytes(c));
  });
}

int nsid_of(nl_sock* sock, const Fd& other, const std::string& what) {
  Msg msg(nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST));
  rtgenmsg g{};
  g.rtgen_family = AF_UNSPEC;
  if (!msg || nlmsg_append(msg.get(), &g, sizeof g, NLMSG_ALIGNTO) < 0 ||
      nla_put_u32(msg.get(), NETNSA_FD, static_cast<uint32_t>(other.get())) < 0)
    throw KernelError("asking the namespace id of", what, "out of memory");
  if (int err = nl_send_auto(sock, msg.get()); err < 0)
    throw KernelError("asking the namespace id of", what, error_text(err));
  NsidReply reply;
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_alloc(NL_CB_DEFAULT), nl_cb_put);
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, parse_nsid, &reply);
  if (int err = nl_recvmsgs(sock, cb.get()); err < 0)
    throw KernelError("asking the namespace id of", what, error_text(err));
  // The reply comes first and the ACK that libnl asked for after it: take it too, or the
  // next request on this socket would read it as its own answer.
  if (reply.seen)
    if (int err = nl_wait_for_ack(sock); err < 0)
      throw KernelError("asking the namespace id of", what, error_text(err));
  return reply.id;
}

}  // namespace topo::nl
