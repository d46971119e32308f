// The executor's entry points for cli/, over the kernel itself: netlink steps (in test builds,
// under the faults TOPO_TEST_* variables ask for: executor/open_kernel.h) and netlink reads
// (executor/read_state.h). What they do is executor/apply.h's, tested over fakes; these only
// choose the real kernel and its reader. A binary links them (the topo_run objects) with
// the kernel library it chose.
#pragma once

#include <string>

#include "executor/apply.h"
#include "parser/model.h"
#include "planner/plan.h"
#include "planner/state.h"

namespace topo {

/// apply() over the kernel: `topo apply`, and `topo destroy` with the expected state of an
/// empty lab. Throws KernelError for what stops it before any step.
ApplyResult apply_to_kernel(State expected, const ApplyRequest& request, ApplyObserver& observer);

/// plan_only() over the kernel: `topo plan`.
Plan plan_kernel(State& expected, const std::string& lab);

/// The lab's part of the kernel, as `topo show` shows it (planner/render_show.h's lab_view):
/// the namespaces `expected` names, and those that carry the lab's mark.
State lab_now(const State& expected, const std::string& lab);

/// Why the lab is not applied, or "" when it is: every namespace it creates is there with
/// its mark, and so is every link it makes. A route or address gone by hand does not make a
/// lab unapplied; `topo test`'s expectations are there to find that. For `test` and `show`,
/// which have nothing to say about a lab that is not there.
std::string not_applied(const Lab& lab);

}  // namespace topo
