#include "executor/prober.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <netinet/in.h>
#include <netlink/route/addr.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "executor/kernel_error.h"
#include "executor/netlink.h"
#include "executor/netns.h"

namespace topo {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kResend = std::chrono::milliseconds(250);
constexpr uint8_t kIcmpEchoRequest = 8, kIcmpEchoReply = 0;
constexpr uint8_t kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129;
constexpr int kIcmpFilter = 1;  // ICMP_FILTER (linux/icmp.h): a raw socket's type filter

struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

Target target_of(const IpAddress& ip, int port) {
  Target t;
  if (ip.family == Family::v4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&t.addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&a->sin_addr, ip.bytes.data(), 4);
    t.len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&t.addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&a->sin6_addr, ip.bytes.data(), 16);
    t.len = sizeof(sockaddr_in6);
  }
  return t;
}

// The socket, made inside the probe's namespace.
Fd socket_in(const Probe& p, int type, int protocol) {
  int family = p.to.family == Family::v4 ? AF_INET : AF_INET6;
  auto make = [&] {
    Fd fd(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol));
    if (!fd) throw KernelError("opening a socket in", "namespace " + p.from, std::strerror(errno), errno);
    return fd;
  };
  if (p.from_path.empty()) return make();
  Fd ns = open_netns(p.from_path);
  if (!ns) throw KernelError("entering", "namespace " + p.from, "it does not exist", ENOENT);
  InNetns inside(ns);
  return make();
}

// Words for the errors a probe meets; anything else in the kernel's own words.
std::string why(int error) {
  switch (error) {
    case ENETUNREACH: return "network unreachable";
    case EHOSTUNREACH: return "host unreachable";
    case ECONNREFUSED: return "refused";
    case ETIMEDOUT: return "no answer";
    default: return std::strerror(error);
  }
}

// An error that no waiting will change: the namespace has no route there.
bool final_error(int error) { return error == ENETUNREACH || error == EACCES || error == EPERM; }

int remaining_ms(Clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

uint16_t checksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (len & 1) sum += data[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint16_t next_echo_id() {
  static std::atomic<uint32_t> counter{0};
  return static_cast<uint16_t>((static_cast<uint32_t>(::getpid()) * 2654435761u) + counter++);
}

struct ProbeOutcome {
  bool reached = false;
  std::string detail;
};

ProbeOutcome icmp(const Probe& p, Clock::time_point deadline) {
  bool v4 = p.to.family == Family::v4;
  Fd fd = socket_in(p, SOCK_RAW, v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6});
  if (v4) {
    uint32_t block = ~(1u << kIcmpEchoReply);  // pass echo replies only
    ::setsockopt(fd.get(), SOL_RAW, kIcmpFilter, &block, sizeof block);
  }
  Target t = target_of(p.to, 0);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&t.addr), t.len) != 0) return {false, why(errno)};
  uint16_t id = next_echo_id();
  std::string last_error;
  uint16_t seq = 0;
  while (true) {
    uint8_t echo[24] = {};
    echo[0] = v4 ? kIcmpEchoRequest : kIcmp6EchoRequest;
    echo[4] = id >> 8;
    echo[5] = id & 0xff;
    echo[6] = seq >> 8;
    echo[7] = seq & 0xff;
    std::memcpy(echo + 8, "topo test probe!", 16);
    ++seq;
    if (v4) {  // the kernel computes ICMPv6 checksums itself
      uint16_t sum = checksum(echo, sizeof echo);
      echo[2] = sum >> 8;
      echo[3] = sum & 0xff;
    }
    if (::send(fd.get(), echo, sizeof echo, 0) < 0) {
      if (final_error(errno)) return {false, why(errno)};
      last_error = why(errno);
    }
    auto resend = std::min(deadline, Clock::now() + kResend);
    while (Clock::now() < resend) {
      pollfd pfd{fd.get(), POLLIN, 0};
      if (::poll(&pfd, 1, std::max(1, remaining_ms(resend))) <= 0) continue;
      uint8_t buf[1500];
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) last_error = why(errno);
        continue;
      }
      size_t off = v4 ? static_cast<size_t>(buf[0] & 0x0f) * 4 : 0;  // IPv4 raw reads include the header
      if (static_cast<size_t>(n) < off + 8) continue;
      const uint8_t* icmp = buf + off;
      if (icmp[0] == (v4 ? kIcmpEchoReply : kIcmp6EchoReply) && ((icmp[4] << 8) | icmp[5]) == id)
        return {true, "reply"};
    }
    if (Clock::now() >= deadline) return {false, last_error.empty() ? "no reply" : last_error};
  }
}

ProbeOutcome tcp(const Probe& p, Clock::time_point deadline) {
  Fd fd = socket_in(p, SOCK_STREAM, 0);
  Target t = target_of(p.to, p.port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&t.addr), t.len) == 0) return {true, "connected"};
  if (errno != EINPROGRESS) return {false, why(errno)};
  pollfd pfd{fd.get(), POLLOUT, 0};
  if (::poll(&pfd, 1, remaining_ms(deadline)) <= 0) return {false, "no answer"};
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
  return error == 0 ? ProbeOutcome{true, "connected"} : ProbeOutcome{false, why(error)};
}

ProbeOutcome udp(const Probe& p, Clock::time_point deadline) {
  Fd fd = socket_in(p, SOCK_DGRAM, 0);
  Target t = target_of(p.to, p.port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&t.addr), t.len) != 0) return {false, why(errno)};
  std::string last_error;
  while (true) {
    if (::send(fd.get(), "topo test probe\n", 16, 0) < 0) {
      // A port unreachable from the last datagram comes back as ECONNREFUSED here.
      if (errno == ECONNREFUSED) return {false, "port unreachable"};
      if (final_error(errno)) return {false, why(errno)};
      last_error = why(errno);
    }
    auto resend = std::min(deadline, Clock::now() + kResend);
    while (Clock::now() < resend) {
      pollfd pfd{fd.get(), POLLIN, 0};
      if (::poll(&pfd, 1, std::max(1, remaining_ms(resend))) <= 0) continue;
      char buf[1500];
      if (::recv(fd.get(), buf, sizeof buf, 0) >= 0) return {true, "answered"};
      if (errno == ECONNREFUSED) return {false, "port unreachable"};
      if (errno != EAGAIN && errno != EINTR) last_error = why(errno);
    }
    if (Clock::now() >= deadline) return {false, last_error.empty() ? "no answer" : last_error};
  }
}

}  // namespace

void wait_for_addresses(const std::vector<std::string>& paths, double max_seconds) {
  struct Ns {
    std::string path;
    nl::Socket sock;
  };
  std::vector<Ns> all;
  for (const std::string& path : paths) {
    Fd fd = open_netns(path);
    if (fd) all.push_back({path, nl::route_socket_in(fd, "namespace " + (path.empty() ? "host" : path))});
  }
  auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(max_seconds));
  auto tentative = [](Ns& ns) {
    bool any = false;
    nl::each_object(nl_socket_get_fd(ns.sock.get()), RTM_GETADDR, "namespace " + ns.path, [&](nl_object* o) {
      // A duplicate address stays tentative for good: nothing to wait for there.
      unsigned flags = rtnl_addr_get_flags(reinterpret_cast<rtnl_addr*>(o));
      any = any || ((flags & IFA_F_TENTATIVE) && !(flags & IFA_F_DADFAILED));
    });
    return any;
  };
  for (Ns& ns : all)
    while (tentative(ns) && Clock::now() < deadline) ::poll(nullptr, 0, 50);
}

ProbeResult KernelProber::probe(const Probe& p) {
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(p.timeout));
  ProbeOutcome o = p.proto == ProbeProto::icmp  ? icmp(p, deadline)
                   : p.proto == ProbeProto::tcp ? tcp(p, deadline)
                                                : udp(p, deadline);
  return {o.reached, o.detail, std::chrono::duration<double>(Clock::now() - start).count()};
}

}  // namespace topo
