// The executor's one side effect: carrying out a plan step in the kernel. Behind an
// interface so that the transaction logic (run, undo on failure) is tested with a fake.
#pragma once

#include "planner/plan.h"

namespace topo {

class Kernel {
 public:
  virtual ~Kernel() = default;
  /// Carries out one step, whole, or throws KernelError having changed nothing that the
  /// step's inverse could not undo.
  virtual void run(const Step& step) = 0;
};

}  // namespace topo
