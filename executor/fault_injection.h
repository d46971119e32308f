// Test-only fault injection (docs/design.md): a Kernel that wraps another and, when asked
// through the environment, fails step K with an injected error, or kills topo with SIGKILL
// just before step K. Test builds' open_lab_kernel (executor/open_kernel.h) wraps the real
// kernel in it; its hooks run the commands the variables below give.
//
//   TOPO_TEST_FAIL_STEP=K   step K (1-based, in plan order) fails, changing nothing
//   TOPO_TEST_KILL_STEP=K   topo dies (SIGKILL) before step K
//   TOPO_TEST_FAIL_NFT=K    the K-th NAT batch topo sends (1-based, undo batches counted
//                           too) ends with a message the kernel refuses: the failure comes
//                           from the kernel, while the batch is in flight, after it has
//                           taken the table, its chains and rules (NetlinkKernel does this)
//   TOPO_TEST_AFTER_PLAN=CMD  apply and destroy run `sh -c CMD` once the plan is made and
//                           before its first step, and wait for it: what another process
//                           might do in that moment (make an interface, kill the process of
//                           an adopted namespace, plant a link) happens exactly there
//   TOPO_TEST_AFTER_LAST_STEP=CMD  likewise once the last step is done, before the kernel
//                           is read again to check it: what the kernel might undo by
//                           itself, or another process meanwhile
#pragma once

#include <memory>

#include "executor/lab_kernel.h"

namespace topo {

class FaultInjectingKernel : public LabKernel {
 public:
  FaultInjectingKernel(std::unique_ptr<LabKernel> inner, long fail_step, long kill_step)
      : inner_(std::move(inner)), fail_step_(fail_step), kill_step_(kill_step) {}
  void run(const Step& step) override;
  void settle_deletions() override { inner_->settle_deletions(); }
  bool claim(const std::string& netns, const std::string& link) override { return inner_->claim(netns, link); }
  std::map<std::string, std::string> overwritten_by(const Step& step) override { return inner_->overwritten_by(step); }
  std::optional<std::string> read_sysctl(const std::string& netns, const std::string& key) override {
    return inner_->read_sysctl(netns, key);
  }
  void put_back_from(const SysctlOriginals* originals, const SysctlOriginals* overwritten) override {
    inner_->put_back_from(originals, overwritten);
  }

  /// The steps from the environment; 0 when unset (no fault).
  static long fail_step_from_env();
  static long kill_step_from_env();
  static long fail_nft_from_env();

 private:
  std::unique_ptr<LabKernel> inner_;
  long fail_step_, kill_step_;
  long count_ = 0;  // steps asked for so far, undo steps included
};

}  // namespace topo
