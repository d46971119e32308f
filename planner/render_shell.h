// `topo plan --format shell`: the plan as the ip/nsenter/file commands a person would type,
// marks included, so that `topo plan --format shell FILE | bash` makes the same kernel state
// that `topo apply` makes. Also the "ip script" the benchmarks compare topo with.
#pragma once

#include <string>
#include <string_view>

#include "planner/plan.h"
#include "planner/state.h"

namespace topo {

/// `expected` tells where each namespace lives (named, or adopted by pid or path).
std::string plan_shell(const Plan& p, const State& expected, std::string_view lab);

}  // namespace topo
