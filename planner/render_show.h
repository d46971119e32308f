// `topo show`: the applied lab as the kernel has it, from a read_state() of it. In the
// namespaces the lab made (lo carries its mark) everything is shown; in host and adopted
// namespaces only the lab's part: links with its mark, the routes its record names there
// (protocol 122 says topo's, not which lab's) and the routes through its links, and its NAT
// table.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "planner/diff.h"
#include "planner/state.h"

namespace topo {

/// The lab's part of an observed state (see above); namespaces that hold nothing of the
/// lab's are left out, host excepted.
/// `lab_routes`: the lab's routes in namespaces it does not own (executor/lab_record.h).
State lab_view(const State& observed, std::string_view lab, const std::set<RouteKey>& lab_routes);

/// One block per namespace, host first: "netns NAME", then a line per interface, route
/// and NAT table.
std::string show_text(const State& view, std::string_view lab);

/// {"format_version":1,"lab":...,"namespaces":[{"name","mark","interfaces":[...],
/// "routes":[...],"nat":...}]}; interfaces, routes and NAT tables as in the JSON plan.
std::string show_json(const State& view, std::string_view lab);

}  // namespace topo
