// What apply and destroy share: read the kernel, plan, refuse on conflicts, run the plan as
// a transaction, and report — the failed step, the kernel's reason, and whether the kernel
// is as it was.
#pragma once

#include <string>

#include "planner/state.h"

namespace topo::cli {

inline constexpr int kExitRollbackFailed = 3;  // an undo failed too: something is left behind

/// Makes the kernel match `expected` for lab `lab`; `verb` names the command in messages.
/// Returns the exit code.
int carry_out(const State& expected, const std::string& lab, const std::string& verb);

}  // namespace topo::cli
