#include "executor/fault_injection.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "executor/kernel_error.h"
#include "executor/netlink_kernel.h"
#include "executor/open_kernel.h"

namespace topo {
namespace {

long from_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return *end == '\0' && n > 0 ? n : 0;
}

}  // namespace

long FaultInjectingKernel::fail_step_from_env() { return from_env("TOPO_TEST_FAIL_STEP"); }
long FaultInjectingKernel::kill_step_from_env() { return from_env("TOPO_TEST_KILL_STEP"); }
long FaultInjectingKernel::fail_nft_from_env() { return from_env("TOPO_TEST_FAIL_NFT"); }

namespace {

void run_hook(const char* variable) {
  const char* command = std::getenv(variable);
  if (!command || !*command) return;
  std::fflush(nullptr);
  if (int status = std::system(command); status != 0)
    std::fprintf(stderr, "topo: %s exited with status %d\n", variable, status);
}

}  // namespace

// executor/open_kernel.h for test builds: netlink, wrapped for the faults a test asks for.
std::unique_ptr<LabKernel> open_lab_kernel(const State& expected, const std::string& lab) {
  auto netlink = std::make_unique<NetlinkKernel>(expected, lab);
  netlink->refuse_nft_batch(FaultInjectingKernel::fail_nft_from_env());
  return std::make_unique<FaultInjectingKernel>(std::move(netlink), FaultInjectingKernel::fail_step_from_env(),
                                                FaultInjectingKernel::kill_step_from_env());
}

void after_plan_hook() { run_hook("TOPO_TEST_AFTER_PLAN"); }

void after_last_step_hook() { run_hook("TOPO_TEST_AFTER_LAST_STEP"); }

void FaultInjectingKernel::run(const Step& step) {
  ++count_;
  if (count_ == kill_step_) ::raise(SIGKILL);
  if (count_ == fail_step_)
    throw KernelError("running", "step " + std::to_string(count_), "fault injected by TOPO_TEST_FAIL_STEP", 0);
  inner_->run(step);
}

}  // namespace topo
