// executor/open_kernel.h for release builds: netlink, and no hooks.
#include "executor/open_kernel.h"

#include "executor/netlink_kernel.h"

namespace topo {

std::unique_ptr<LabKernel> open_lab_kernel(const State& expected, const std::string& lab) {
  return std::make_unique<NetlinkKernel>(expected, lab);
}

void after_plan_hook() {}
void after_last_step_hook() {}

}  // namespace topo
