// The lab's [[filter]] rules, bridge isolation and chain policies as chains of its nftables
// table (the NAT issue's table, planner/nat.h): pure values, the executor makes them in the
// same batch as the NAT chains.
//
// Layout, added after the NAT chains when the namespace needs any of them:
//   filter-forward  type filter hook forward priority -10  [[filter]] chain "forward", then
//                   one drop per ordered pair of isolated bridges (`isolate = true`)
//   filter-input    type filter hook input   priority -10
//   filter-output   type filter hook output  priority -10
// Priority -10 (filter - 10): after conntrack (-200) and dstnat (-100), so `state` and the
// translated destination are seen, as in Docker's DOCKER-USER; before Docker's own filter
// chains, which iptables-nft makes at priority 0 (filter). A drop here is final; an accept
// only ends this chain, the packet still meets Docker's chains (nftables runs every base
// chain of a hook).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "parser/model.h"
#include "planner/state.h"

namespace topo {

inline constexpr int kFilterPriority = -10;

/// The filter chains the lab wants in each namespace, rules in file order; a namespace with
/// no rule, no isolated bridge pair and no drop policy is left out.
std::map<std::string, std::vector<NftChain>> filter_chains(const Lab& lab);

/// "forward" for "filter-forward"; "" when `chain` is not a filter chain.
std::string filter_chain_short(std::string_view chain);

/// The rule as a plan line says it: "drop tcp dport 80 from !192.168.1.0/24 in eth0".
std::string describe_filter(const NftRule& r);

/// The rule in nft's syntax, statements in the order topo's expressions have them; nullopt
/// when an interface name cannot be written exactly.
std::optional<std::string> filter_nft_syntax(const NftRule& r);

}  // namespace topo
