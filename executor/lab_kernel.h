// The kernel as apply and destroy use it (executor/apply.h): the steps (Kernel), and what a
// transaction asks besides them. NetlinkKernel is the real one; tests have fakes.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "executor/kernel.h"
#include "executor/lab_record.h"

namespace topo {

/// The kernel as a transaction uses it: steps, and what it asks besides them.
class LabKernel : public Kernel {
 public:
  /// Waits until what dies with deleted namespaces is gone. Throws KernelError.
  virtual void settle_deletions() = 0;
  /// Marks a link (or, for "lo", the namespace) as the lab's when it exists unmarked.
  virtual bool claim(const std::string& netns, const std::string& link) = 0;
  /// What `step` overwrites besides its own key (executor/netlink_kernel.h), by key.
  virtual std::map<std::string, std::string> overwritten_by(const Step& step) = 0;
  /// The value of `key` in `netns` now; nullopt when it cannot be read.
  virtual std::optional<std::string> read_sysctl(const std::string& netns, const std::string& key) = 0;
  /// Where the values a sysctl overwrote are found when it gets its original back.
  virtual void put_back_from(const SysctlOriginals* originals, const SysctlOriginals* overwritten) = 0;
};

}  // namespace topo
