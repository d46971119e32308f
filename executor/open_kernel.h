// The kernel a lab's steps run in, and the two moments a test may act in. Two libraries
// implement this header, and a binary links one: topo_release_kernel (open_kernel.cpp:
// netlink, no hooks) or, in test builds only, topo_test_hooks (fault_injection.cpp: the
// faults and commands TOPO_TEST_* variables ask for). So cli/ has no #ifdef, and a release
// binary has no code path that reads those variables.
#pragma once

#include <memory>
#include <string>

#include "executor/lab_kernel.h"
#include "planner/state.h"

namespace topo {

/// The kernel for `lab`, whose expected state is `expected`.
std::unique_ptr<LabKernel> open_lab_kernel(const State& expected, const std::string& lab);

/// Once the plan is made, before its first step (test builds: TOPO_TEST_AFTER_PLAN).
void after_plan_hook();
/// Once the last step is done, before the kernel is read again to check it (test builds:
/// TOPO_TEST_AFTER_LAST_STEP).
void after_last_step_hook();

}  // namespace topo
