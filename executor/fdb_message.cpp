#include "executor/fdb_message.h"

#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace topo {
namespace {

void append(std::vector<std::byte>& out, const void* data, size_t n) {
  const auto* p = static_cast<const std::byte*>(data);
  out.insert(out.end(), p, p + n);
  out.resize(NLMSG_ALIGN(out.size()));
}

void attribute(std::vector<std::byte>& out, uint16_t type, const void* data, size_t n) {
  rtattr a{static_cast<unsigned short>(RTA_LENGTH(n)), type};
  append(out, &a, sizeof a);
  append(out, data, n);
}

std::vector<std::byte> message(uint16_t type, uint16_t flags, uint32_t seq, const ndmsg& nd) {
  std::vector<std::byte> out;
  nlmsghdr h{};
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  h.nlmsg_seq = seq;
  append(out, &h, sizeof h);
  append(out, &nd, sizeof nd);
  return out;
}

void finish(std::vector<std::byte>& out) {
  auto len = static_cast<uint32_t>(out.size());
  std::memcpy(out.data(), &len, sizeof len);
}

}  // namespace

std::vector<std::byte> fdb_request(int ifindex, const IpAddress& remote, bool add, uint32_t seq) {
  ndmsg nd{};
  nd.ndm_family = AF_BRIDGE;
  nd.ndm_ifindex = ifindex;
  nd.ndm_state = NUD_NOARP | NUD_PERMANENT;  // what `bridge fdb append` asks: kept until deleted
  nd.ndm_flags = NTF_SELF;                   // the VXLAN's own table, not a bridge's
  uint16_t flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_APPEND : 0);
  std::vector<std::byte> out = message(add ? RTM_NEWNEIGH : RTM_DELNEIGH, flags, seq, nd);
  const unsigned char zeros[ETH_ALEN] = {};
  attribute(out, NDA_LLADDR, zeros, sizeof zeros);
  attribute(out, NDA_DST, remote.bytes.data(), remote.size());
  finish(out);
  return out;
}

std::vector<std::byte> fdb_dump_request(uint32_t seq) {
  ndmsg nd{};
  nd.ndm_family = AF_BRIDGE;
  std::vector<std::byte> out = message(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, seq, nd);
  finish(out);
  return out;
}

std::optional<FloodEntry> decode_flood_entry(std::span<const std::byte> bytes) {
  if (bytes.size() < NLMSG_LENGTH(sizeof(ndmsg))) return std::nullopt;
  nlmsghdr h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.nlmsg_type != RTM_NEWNEIGH || h.nlmsg_len > bytes.size() || h.nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg)))
    return std::nullopt;
  ndmsg nd;
  std::memcpy(&nd, bytes.data() + NLMSG_HDRLEN, sizeof nd);
  if (nd.ndm_family != AF_BRIDGE || !(nd.ndm_state & NUD_PERMANENT) || !(nd.ndm_flags & NTF_SELF)) return std::nullopt;
  std::optional<IpAddress> remote;
  bool zeros = false;
  size_t at = NLMSG_LENGTH(sizeof(ndmsg));
  while (at + sizeof(rtattr) <= h.nlmsg_len) {
    rtattr a;
    std::memcpy(&a, bytes.data() + at, sizeof a);
    if (a.rta_len < sizeof(rtattr) || at + a.rta_len > h.nlmsg_len) return std::nullopt;
    const std::byte* value = bytes.data() + at + RTA_LENGTH(0);
    size_t n = a.rta_len - RTA_LENGTH(0);
    if (a.rta_type == NDA_LLADDR) {
      unsigned char mac[ETH_ALEN] = {}, none[ETH_ALEN] = {};
      if (n != ETH_ALEN) return std::nullopt;
      std::memcpy(mac, value, n);
      zeros = std::memcmp(mac, none, ETH_ALEN) == 0;
    } else if (a.rta_type == NDA_DST && (n == 4 || n == 16)) {
      IpAddress ip;
      ip.family = n == 4 ? Family::v4 : Family::v6;
      std::memcpy(ip.bytes.data(), value, n);
      remote = ip;
    }
    at += RTA_ALIGN(a.rta_len);
  }
  if (!zeros || !remote) return std::nullopt;
  return FloodEntry{nd.ndm_ifindex, *remote};
}

}  // namespace topo
