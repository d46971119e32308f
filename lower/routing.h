// routing = "static": the lab's routes computed from its graph, the last lowering stage.
#pragma once

#include "parser/diagnostics.h"
#include "parser/model.h"

namespace topo {

/// For routing = "static", adds to `lab.routes` a route in each routing namespace to each
/// lab subnet it is not on, through the next hops of the shortest paths there (fewest
/// hops; several at equal cost make one multipath route, sorted), and turns forwarding on
/// in each namespace that is such a next hop, for the families it forwards.
///
/// The graph is the lowered lab's: namespaces are nodes, and two namespaces are neighbours
/// where they have addresses on one subnet of one layer-2 segment (a veth pair, a bridge and
/// its ports). Namespaces whose only addresses are network memberships are members: they
/// keep their default route through the gateway and get no routes, and never forward. A
/// namespace forwards for others when it has addresses on two segments or more and the file
/// does not turn its forwarding off. A route the file writes in a namespace wins over a
/// computed one to the same destination. A lab that would have more than
/// kMaxComputedRoutes routes (routing namespaces times subnets) is an error at `routing`.
void add_static_routes(Lab& lab, Diagnostics& diags);

/// Routes routing = "static" computes at most: 200 routers in a graph of 300 links have
/// 117,612 (docs/performance.md); two million take about 400 MiB.
inline constexpr size_t kMaxComputedRoutes = 2'000'000;

}  // namespace topo
