// One apply or destroy per lab at a time: an exclusive flock on /run/topo/LAB/lock, held for
// the whole run and let go by the kernel if topo dies, so a crash never leaves it stuck.
#pragma once

#include <functional>
#include <string>

#include "executor/netns.h"

namespace topo {

/// Where topo keeps a lab's own files: /run/topo/LAB (made 0700 when missing).
std::string lab_run_dir(const std::string& lab);

class LabLock {
 public:
  /// Takes the lock. When another run holds it: with `wait`, calls `waiting()` once and
  /// blocks until it is free; without, throws KernelError (EWOULDBLOCK).
  LabLock(const std::string& lab, bool wait, const std::function<void()>& waiting);

 private:
  Fd fd_;
};

}  // namespace topo
