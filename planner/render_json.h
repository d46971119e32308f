// `topo plan --format json`: the plan for programs. Schema (format_version 1) in
// docs/cli.md: the summary, the conflicts, and the ordered steps, each with its object's
// state before and after (null: absent). A step's inverse is the same object with before
// and after swapped; "inverse" names its action.
#pragma once

#include <string>
#include <string_view>

#include "planner/plan.h"

namespace topo {

std::string plan_json(const Plan& p, std::string_view lab);

/// The pieces, for other JSON documents (`topo show`): a JSON string, and a link, route
/// and NAT table as the plan's `before`/`after` have them.
std::string json_quote(std::string_view s);
std::string json_of(const LinkState& l);
std::string json_of(const RouteState& r);
std::string json_of(const NftTable& t);

}  // namespace topo
