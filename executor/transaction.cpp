#include "executor/transaction.h"

#include <cerrno>

namespace topo {
namespace {

// An inverse that removes what is already gone has nothing left to do: the kernel (or
// another process) did it meanwhile, as the check after the last step may have found.
// Only where the kernel's answer says that of the object itself: no such route, no such
// device (an nftables batch's ENOENT may be any of its messages'). The comparison with the
// state before the run has the last word anyway.
bool already_gone(const Step& undo, const KernelError& e) {
  if (undo.action != Action::remove) return false;
  if (std::holds_alternative<RouteDelta>(undo.subject)) return e.error() == ESRCH;
  if (std::holds_alternative<LinkDelta>(undo.subject)) return e.error() == ENODEV;
  return false;
}

}  // namespace

Outcome run_transaction(const std::vector<Step>& steps, Kernel& kernel, const std::function<bool()>& should_stop,
                        const std::function<void(size_t)>& before_step, const std::function<void()>& verify) {
  Outcome out;
  for (; out.done < steps.size(); ++out.done) {
    if (should_stop && should_stop()) {
      out.interrupted = true;
      break;
    }
    if (before_step) before_step(out.done);
    try {
      kernel.run(steps[out.done]);
    } catch (const KernelError& e) {
      out.failure = StepFailure{out.done, e};
      break;
    }
  }
  if (out.ok() && verify) {
    try {
      verify();
    } catch (const KernelError& e) {
      out.failure = StepFailure{out.done, e};
    }
  }
  if (out.ok()) return out;
  // A failed step changed nothing (Kernel's contract): undo the ones before it, last first.
  // An inverse that fails is noted and the others still run: the less left behind the better.
  for (size_t i = out.done; i-- > 0;) {
    Step undo = steps[i].inverse();
    try {
      kernel.run(undo);
    } catch (const KernelError& e) {
      if (!already_gone(undo, e)) out.undo_failures.push_back({i, e});
    }
  }
  return out;
}

}  // namespace topo
