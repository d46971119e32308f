// Human text for states and changes, Terraform's way: "+" create, "~" modify, "-/+" replace,
// "-" remove. Shared by `topo plan` and the tests so that both read the same lines.
#pragma once

#include <string>

#include "planner/diff.h"
#include "planner/plan.h"
#include "planner/state.h"

namespace topo {

/// What a link is, without its settings: "veth eth0 peer host/red-p", "macvlan mv0 parent
/// host/eth9 mode bridge"; a link of no kind the kernel names is a "link".
std::string link_identity(const LinkState& l);

/// A route's destination in `ip route`'s words: "default" for 0.0.0.0/0 and ::/0.
std::string ip_destination(const IpPrefix& p);

/// "veth eth0 peer host/red-p 10.0.0.2/24 mtu 9000". Given the link's namespace, a bridge's
/// mac is left out when it is the one topo derives (bridge_mac): it says nothing the file did.
std::string describe(const LinkState& l, std::string_view netns = {});
std::string describe(const RouteState& r);  // "route default via 10.0.0.1 dev eth0"
/// Where a route goes, in `ip route`'s words: " via 10.0.0.1 dev eth0", or for a multipath
/// route " nexthop via 10.0.0.1 nexthop via 10.0.0.3" (" dev", " weight" where set).
std::string route_paths(const RouteState& r);

/// One line: "~ bridge br0: mtu 1500 -> 9000" (no namespace: plans group by namespace).
std::string describe(const Change& c);
/// "netns: line" for each change, then "conflict: ..." for each conflict.
std::string describe(const Diff& d);

/// One step, for tests and logs: "red: + veth eth0 peer host/red-p & host: veth red-p ...".
std::string describe(const Step& s);

/// The plan as `topo plan` prints it: changes grouped by namespace (host first), conflicts
/// marked "!", and the summary line; "No changes." when there is nothing to do.
std::string plan_text(const Plan& p);

}  // namespace topo
