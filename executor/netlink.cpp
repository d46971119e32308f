#include "executor/netlink.h"

#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>

#include "executor/kernel_error.h"

namespace topo::nl {

std::string error_text(int nl_error) { return nl_geterror(nl_error); }

Socket route_socket_in(const Fd& netns, const std::string& what) {
  InNetns inside(netns);
  Socket sock(nl_socket_alloc());
  if (!sock) throw KernelError("opening a netlink socket in", what, "out of memory");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0)
    throw KernelError("opening a netlink socket in", what, error_text(err));
  // Large labs dump thousands of objects: give the kernel room rather than lose messages.
  nl_socket_set_buffer_size(sock.get(), 4 << 20, 1 << 20);
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

}  // namespace

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
