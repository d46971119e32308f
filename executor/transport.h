// The one way topo exchanges netlink messages with the kernel, for rtnetlink (links,
// addresses, routes) and nfnetlink (nftables) alike: requests go out in one sendmsg, every
// answer is read and matched to its request by sequence number, an ACK is parsed whether or
// not the kernel echoed the request in it, and a dump is read whole or asked for again.
// libnl and libnftnl only build and parse the messages.
#pragma once

#include <linux/netlink.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace topo::nl {

/// The kernel's answer to one request: 0 or a negative errno, and its extended-ack text.
struct Ack {
  int error = 0;
  std::string text;  // "" when the kernel gave none
  /// strerror, with the kernel's own words when it gave some.
  std::string reason() const;
};

/// What an NLMSG_ERROR message says, with the request echoed in it or not (NETLINK_CAP_ACK
/// is a saving the kernel may not grant, never something the parsing depends on).
Ack parse_ack(const nlmsghdr* h);

/// Asks the kernel for its own words in errors (NETLINK_EXT_ACK) and for ACKs without the
/// request echoed back (NETLINK_CAP_ACK, which keeps a batch's answers small).
void ask_for_short_acks(int fd);

using OnMessage = std::function<void(const nlmsghdr*)>;

/// Sends `buffers` (whole netlink messages, one or more per buffer, with distinct sequence
/// numbers in increasing order) in one sendmsg, and returns the kernel's answer to each
/// message, in order: error 0 for one that asked for no ACK and got none. Reads until every
/// message that asked for an ACK (NLM_F_ACK) has it, or until one that did not is refused
/// (nfnetlink refuses a batch whole at its begin or end message), then whatever is already
/// queued, without waiting. Other answers (what NLM_F_ECHO sends back) go to `other`.
/// Throws KernelError when the socket fails; `what` names the namespace or object.
std::vector<Ack> exchange(int fd, const std::vector<iovec>& buffers, const std::string& what,
                          const OnMessage& other = nullptr);

/// The sequence number of a dump's first request (each dump asked again takes the next):
/// apart from exchange's callers' and libnl's numbers.
inline constexpr uint32_t kDumpSeq = 1u << 29;

/// Sends the dump request `request` (its sequence number is set here) and hands each
/// message of the answer to `each`, once the whole answer is in. An answer the kernel marks
/// interrupted (NLM_F_DUMP_INTR: the objects changed while it was dumping) is read to its end
/// and the dump asked for again, up to ten times. An error answer throws KernelError with the
/// kernel's errno; so does a failing socket.
void dump(int fd, nlmsghdr* request, const std::string& what, const OnMessage& each);

/// How one dump's answer ended (dump's reading half, apart for tests).
enum class DumpEnd { done, interrupted };
/// Reads the answer to the dump request numbered `seq` to its NLMSG_DONE, skipping messages
/// with other numbers (the rest of an answer abandoned earlier); the messages are kept in
/// `messages` (raw bytes, one netlink message after another).
DumpEnd read_dump(int fd, uint32_t seq, const std::string& what, std::vector<char>& messages);

}  // namespace topo::nl
