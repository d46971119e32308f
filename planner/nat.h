// The lab's NAT as the content of its nftables table: which chains the table holds, which
// rule goes in which chain, and how a rule reads in a plan and in nft's own syntax. Pure:
// the executor (executor/nft.h) turns the same values into netlink messages.
//
// Layout (docs/design.md): one table per namespace with NAT, family inet (IPv4 and IPv6 in
// one table), named nat_table_name(lab), its comment the ownership mark, holding
//   prerouting   type nat hook prerouting  priority -100 (dstnat)  dnat rules
//   output       type nat hook output      priority -100 (dstnat)  dnat rules again, so that
//                connections made from the namespace itself are mapped too (not those
//                with `in`: locally made packets have no input interface)
//   postrouting  type nat hook postrouting priority 100 (srcnat)   masquerade and snat rules
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "parser/model.h"
#include "planner/diff.h"

namespace topo {

/// The three chains every lab NAT table holds, without rules, in the order they are made.
std::vector<NftChain> nat_chains();

/// The table the lab wants in `netns`; nullopt when it has no NAT rule there.
std::optional<NftTable> expected_nat(const Lab& lab, std::string_view netns);

/// The rule as the file says it: "dnat tcp 8080 -> 10.0.0.2:80", "masquerade 10.0.0.0/24
/// out eth0".
std::string describe(const NftRule& r);

/// The rule in nft's syntax, for `nft add rule inet TABLE CHAIN ...`: the statements in the
/// order topo's own expressions have them, so that nft makes the very same rule. nullopt
/// when an interface name cannot be written exactly in nft's syntax (a '"', '\' or '*').
std::optional<std::string> nft_syntax(const NftRule& r);

/// An interface name in nft's syntax: quoted, and only when nft reads it back unchanged
/// (it has no escapes inside quotes, and a trailing '*' would make the match a prefix match).
std::optional<std::string> nft_name(const std::string& name);

/// One line of a NAT change in the plan: a rule made or deleted (with the chains it is in,
/// since a dnat rule is in two), or the table itself.
struct NatLine {
  Action action;     // create, modify or remove
  std::string text;  // "nat dnat tcp 8080 -> 10.0.0.2:80 (prerouting, output)"
};

/// What changes between the two contents of the table, line by line: the table's own line
/// (when it is made, deleted, or not as topo makes it), then the rules deleted, then those
/// made. A table whose rules are all kept but in another order gets a modify line.
std::vector<NatLine> nat_lines(const TableDelta& d);

}  // namespace topo
