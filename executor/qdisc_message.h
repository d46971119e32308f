// Root qdiscs in netlink's bytes: the request that sets one (RTM_NEWQDISC, create or
// replace) or gives a link the kernel's default back (RTM_DELQDISC), byte for byte what
// `tc qdisc replace|del dev X root ...` sends, and the qdisc a dump message holds. Pure, so
// that the bytes are tested against tc's own (tests/qdisc_test.cpp) and the decoding is
// fuzzed with the other dumps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "planner/qdisc.h"

namespace topo {

/// The request for link `ifindex`: its root qdisc made `q` (NLM_F_CREATE | NLM_F_REPLACE),
/// or, for nullopt, deleted, which gives it the kernel's default again. A tbf with a burst
/// is asked for as tc asks (the burst in bytes, which the kernel turns into time); one read
/// from the kernel (no burst) by its time, which the kernel keeps as it is.
std::vector<std::byte> qdisc_request(int ifindex, const std::optional<Qdisc>& q, uint32_t seq = 0);

/// A link's root qdisc as a dump (RTM_GETQDISC) gives it.
struct RootQdisc {
  int ifindex = 0;
  Qdisc qdisc;
};
/// The root qdisc one RTM_NEWQDISC message holds (`message`: its bytes, nlmsg_len of them);
/// nullopt for another message, a qdisc that is not a root one or is the kernel's default
/// (handle 0), and anything malformed. A tbf or netem with settings topo does not make (a
/// peak rate, correlations...) is an OtherQdisc of that kind: topo could not make it again.
std::optional<RootQdisc> decode_qdisc(std::span<const std::byte> message);

/// What the kernel lacks when it does not know a qdisc kind: "CONFIG_NET_SCH_NETEM".
std::string qdisc_config_option(const std::string& kind);

}  // namespace topo
