// One apply or destroy per lab at a time: an exclusive flock on /run/topo/LAB/lock, held for
// the whole run and let go by the kernel if topo dies, so a crash never leaves it stuck.
#pragma once

#include <functional>
#include <string>

#include "executor/fd.h"
#include "executor/lab_dir.h"

namespace topo {

class LabLock {
 public:
  /// Takes the lock in the lab's directory. When another run holds it: with `wait`, calls
  /// `waiting()` once and blocks until it is free; without, throws KernelError (EWOULDBLOCK).
  LabLock(const LabDir& dir, const std::string& lab, bool wait, const std::function<void()>& waiting);

 private:
  Fd fd_;
};

}  // namespace topo
