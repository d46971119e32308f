// Running a plan as a transaction: the steps in order; at the first failure (or when asked
// to stop, on SIGINT/SIGTERM) the inverses of the steps done, in reverse. Pure logic over
// the Kernel interface, so that every path is tested with a fake.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "executor/kernel.h"
#include "executor/kernel_error.h"

namespace topo {

struct StepFailure {
  size_t index;  // into the plan's steps
  KernelError error;
};

struct Outcome {
  size_t done = 0;                         // steps that ran (before any undo)
  std::optional<StepFailure> failure;      // the step that failed, when one did
  bool interrupted = false;                // stopped by a signal before the plan's end
  std::vector<StepFailure> undo_failures;  // inverses that failed too: what remains

  bool ok() const { return !failure && !interrupted; }
  /// Every step ran, but the kernel was not then as they were to leave it.
  bool unverified(size_t steps) const { return failure && failure->index == steps; }
  bool rolled_back() const { return !ok() && undo_failures.empty(); }
};

/// `should_stop()` is asked before each step (a pending SIGINT/SIGTERM); `before_step(i)`
/// runs just before step i (the journal notes there what the step may make, for a killed
/// run's successor to claim). `verify()` runs once the last step is done: a KernelError from
/// it (the kernel is not in the state the steps were to make) is a failure at index
/// steps.size(), and every step is undone.
Outcome run_transaction(const std::vector<Step>& steps, Kernel& kernel, const std::function<bool()>& should_stop = {},
                        const std::function<void(size_t)>& before_step = {}, const std::function<void()>& verify = {});

}  // namespace topo
