// What changed between the read of the kernel before a run and the read after its
// rollback, in two parts: the lab's (what the rollback left behind) and the rest — links
// without the lab's mark made, changed or deleted meanwhile by something else, an adopted
// namespace whose process went. The rollback answers for the first part only.
#pragma once

#include <string>

#include "planner/state.h"

namespace topo {

struct Differences {
  std::string lab, others;  // a line each ("  namespace red: ..."), "" when none
};

/// `expected`: the lab's expected state (which namespaces are adopted); `mark`: the lab's
/// ownership mark.
Differences differences(const State& expected, const State& before, const State& after, const std::string& mark);

}  // namespace topo
