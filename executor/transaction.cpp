#include "executor/transaction.h"

namespace topo {

Outcome run_transaction(const std::vector<Step>& steps, Kernel& kernel,
                        const std::function<bool()>& should_stop,
                        const std::function<void(size_t)>& before_step) {
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
  if (out.ok()) return out;
  // A failed step changed nothing (Kernel's contract): undo the ones before it, last first.
  // An inverse that fails is noted and the others still run: the less left behind the better.
  for (size_t i = out.done; i-- > 0;) {
    try {
      kernel.run(steps[i].inverse());
    } catch (const KernelError& e) {
      out.undo_failures.push_back({i, e});
    }
  }
  return out;
}

}  // namespace topo
