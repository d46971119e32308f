#include "executor/transport.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "executor/kernel_error.h"

namespace topo::nl {
namespace {

// The kernel puts at most 32 KiB in one message of a dump (rtnetlink's and nfnetlink's
// NLMSG_GOODSIZE on 4 KiB pages), and a datagram holds whole messages.
constexpr size_t kReceiveSize = 64 << 10;
constexpr int kDumpAttempts = 10;

// The netlink messages in `bytes`, each handed to `each`.
template <class Each>
void each_message(const char* bytes, size_t size, Each&& each) {
  int left = static_cast<int>(size);
  for (auto* h = reinterpret_cast<const nlmsghdr*>(bytes); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) each(h);
}

// No address: an unconnected netlink socket sends to the kernel (port 0), and any other
// socket (a test's socketpair) to its peer.
void send_messages(int fd, const std::vector<iovec>& buffers, const std::string& what) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(buffers.data());
  m.msg_iovlen = buffers.size();
  while (::sendmsg(fd, &m, 0) < 0)
    if (errno != EINTR) throw KernelError("sending requests in", what, std::strerror(errno), errno);
}

// One datagram into `buf`; its size, or -1 when `wait` is false and none is queued.
ssize_t receive(int fd, std::vector<char>& buf, bool wait, const std::string& what) {
  for (;;) {
    // MSG_TRUNC: the datagram's whole size, so that one too large for the buffer is an
    // error rather than messages silently cut short.
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_TRUNC | (wait ? 0 : MSG_DONTWAIT));
    if (n >= 0 && static_cast<size_t>(n) > buf.size())
      throw KernelError("reading the kernel's answers in", what, fmt::format("a message of {} bytes", n), EMSGSIZE);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (!wait && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
    throw KernelError("reading the kernel's answers in", what, std::strerror(errno), errno);
  }
}

}  // namespace

std::string Ack::reason() const {
  std::string out = std::strerror(-error);
  return text.empty() ? out : out + " (" + text + ")";
}

Ack parse_ack(const nlmsghdr* h) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return Ack{-EBADMSG, "a truncated acknowledgement"};
  const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
  Ack ack{e->error, {}};
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return ack;
  // The TLVs follow the request's header, or the whole request when it was echoed.
  size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
  while (off + NLA_HDRLEN <= h->nlmsg_len) {
    const auto* a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(h) + off);
    if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* text = reinterpret_cast<const char*>(a) + NLA_HDRLEN;
      ack.text.assign(text, strnlen(text, a->nla_len - NLA_HDRLEN));
    }
    off += NLA_ALIGN(a->nla_len);
  }
  return ack;
}

void ask_for_short_acks(int fd) {
  int one = 1;
  // Neither is needed for correctness (parse_ack reads either form), so a kernel that
  // refuses them costs only longer answers.
  ::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
}

std::vector<Ack> exchange(int fd, const std::vector<iovec>& buffers, const std::string& what, const OnMessage& other) {
  std::vector<uint32_t> seqs;
  size_t owed = 0;
  std::vector<bool> awaited;
  for (const iovec& b : buffers)
    each_message(static_cast<const char*>(b.iov_base), b.iov_len, [&](const nlmsghdr* h) {
      seqs.push_back(h->nlmsg_seq);
      awaited.push_back(h->nlmsg_flags & NLM_F_ACK);
      owed += awaited.back();
    });
  send_messages(fd, buffers, what);
  std::vector<Ack> acks(seqs.size());
  bool refused = false;  // a message that asked for no ACK got an error: the rest may get none
  std::vector<char> buf(kReceiveSize);
  for (;;) {
    ssize_t n = receive(fd, buf, owed > 0 && !refused, what);
    if (n < 0) break;
    each_message(buf.data(), static_cast<size_t>(n), [&](const nlmsghdr* h) {
      auto at = std::lower_bound(seqs.begin(), seqs.end(), h->nlmsg_seq);
      bool mine = at != seqs.end() && *at == h->nlmsg_seq;
      if (h->nlmsg_type != NLMSG_ERROR) {
        if (mine && other) other(h);
        return;
      }
      if (!mine) return;  // an answer to an exchange abandoned earlier
      size_t i = static_cast<size_t>(at - seqs.begin());
      acks[i] = parse_ack(h);
      if (awaited[i]) {
        awaited[i] = false;
        --owed;
      } else if (acks[i].error) {
        refused = true;
      }
    });
  }
  return acks;
}

DumpEnd read_dump(int fd, uint32_t seq, const std::string& what, std::vector<char>& messages) {
  bool interrupted = false, done = false;
  std::vector<char> buf(kReceiveSize);
  while (!done) {
    ssize_t n = receive(fd, buf, true, what);
    each_message(buf.data(), static_cast<size_t>(n), [&](const nlmsghdr* h) {
      if (done || h->nlmsg_seq != seq) return;
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      if (h->nlmsg_type == NLMSG_DONE) {
        done = true;
        // A dump that failed part way says so in its NLMSG_DONE: a negative errno.
        int error = 0;
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof error)) std::memcpy(&error, NLMSG_DATA(h), sizeof error);
        if (error < 0) throw KernelError("reading", what, std::strerror(-error), -error);
      } else if (h->nlmsg_type == NLMSG_ERROR) {
        Ack ack = parse_ack(h);
        if (ack.error == 0) return;
        throw KernelError("reading", what, ack.reason(), -ack.error);
      } else {
        const char* bytes = reinterpret_cast<const char*>(h);
        messages.insert(messages.end(), bytes, bytes + NLMSG_ALIGN(h->nlmsg_len));
      }
    });
  }
  return interrupted ? DumpEnd::interrupted : DumpEnd::done;
}

void dump(int fd, nlmsghdr* request, const std::string& what, const OnMessage& each) {
  std::vector<char> messages;
  for (int attempt = 0;; ++attempt) {
    request->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
    request->nlmsg_seq = kDumpSeq + static_cast<uint32_t>(attempt);
    request->nlmsg_pid = 0;
    send_messages(fd, {{request, request->nlmsg_len}}, what);
    messages.clear();
    DumpEnd end = read_dump(fd, request->nlmsg_seq, what, messages);
    if (end == DumpEnd::done) break;
    if (attempt + 1 == kDumpAttempts)
      throw KernelError("reading", what, fmt::format("it kept changing through {} dumps", kDumpAttempts), EINTR);
  }
  each_message(messages.data(), messages.size(), each);
}

}  // namespace topo::nl
