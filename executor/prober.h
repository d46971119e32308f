// The kernel's answer to a Probe (planner/probe.h): a socket opened inside the probe's
// namespace (the thread enters it for the socket() call only; the socket keeps talking to
// it), then
//   icmp: echo requests on a raw ICMP/ICMPv6 socket (topo runs as root; no `ping` binary and
//         no net.ipv4.ping_group_range needed), one every 250 ms until a reply or the timeout;
//   tcp:  a non-blocking connect: reached when the handshake completes;
//   udp:  a datagram every 250 ms on a connected socket: reached when a datagram comes back.
//         An ICMP port unreachable (the host is there, nothing listens) is not reaching, as a
//         refused TCP connection is not: "reach" means something answered on that port.
// The raw socket is connected to the target, so the kernel hands it only that address's
// packets, and each probe has an echo id of its own, so probes running together in one
// namespace do not take each other's replies.
#pragma once

#include <string>
#include <vector>

#include "planner/probe.h"

namespace topo {

/// Waits, at most `max_seconds`, until no IPv6 address in the namespaces at `paths` ("" for
/// topo's own) is tentative: duplicate address detection takes a second or two after an
/// address is added (more on a busy machine), and until it ends the address can neither
/// send nor answer. Returns at once when none is. Throws KernelError.
void wait_for_addresses(const std::vector<std::string>& paths, double max_seconds);

class KernelProber : public Prober {
 public:
  ProbeResult probe(const Probe& p) override;
};

}  // namespace topo
