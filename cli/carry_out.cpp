#include "cli/carry_out.h"

#include <fmt/format.h>
#include <signal.h>

#include <chrono>

#include "cli/commands.h"
#include "executor/netlink_kernel.h"
#include "executor/read_state.h"
#include "executor/transaction.h"
#include "planner/diff.h"
#include "planner/plan.h"
#include "planner/render_text.h"

namespace topo::cli {
namespace {

// SIGINT and SIGTERM are held while the plan runs and looked for between steps: a signal
// then stops the apply cleanly, with a rollback, instead of killing it halfway.
class HeldSignals {
 public:
  HeldSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~HeldSignals() {
    timespec zero{};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {  // consumed: the rollback answered it
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  bool pending() const {
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, SIGINT) || sigismember(&p, SIGTERM);
  }

 private:
  sigset_t set_, old_;
};

// Namespaces whose state differs between two reads, for the report of a failed rollback.
std::string differences(const State& before, const State& after) {
  std::string out;
  for (const auto& [name, ns] : before.namespaces) {
    const NamespaceState* now = after.find(name);
    if (!now || !(*now == ns)) out += fmt::format("  namespace {} is not as it was\n", name);
  }
  for (const auto& [name, ns] : after.namespaces)
    if (!before.find(name)) out += fmt::format("  namespace {} is new\n", name);
  return out;
}

}  // namespace

int carry_out(const State& expected, const std::string& lab, const std::string& verb) {
  auto start = std::chrono::steady_clock::now();
  State snapshot = read_state(expected, lab);
  Plan plan = make_plan(diff(expected, snapshot, lab));
  if (!plan.conflicts.empty()) {
    fmt::print(stderr, "{}", plan_text(plan));
    fmt::print(stderr, "topo: {} refused: nothing was changed.\n", verb);
    return kExitFailed;
  }
  if (plan.steps.empty()) {
    fmt::print("No changes. The kernel matches the lab.\n");
    return kExitOk;
  }
  NetlinkKernel kernel(expected, lab);
  Outcome outcome;
  {
    HeldSignals signals;
    outcome = run_transaction(plan.steps, kernel, [&] { return signals.pending(); });
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (outcome.ok()) {
    if (verb == "destroy")
      fmt::print("Destroyed lab '{}': {} removed ({} steps in {:.2f} s).\n", lab, plan.to_destroy,
                 plan.steps.size(), seconds);
    else
      fmt::print("Applied lab '{}': {} added, {} changed, {} destroyed ({} steps in {:.2f} s).\n", lab,
                 plan.to_add, plan.to_change, plan.to_destroy, plan.steps.size(), seconds);
    return kExitOk;
  }
  if (outcome.failure) {
    const StepFailure& f = *outcome.failure;
    fmt::print(stderr, "topo: {} failed at step {} of {}: {}\n  {}\n", verb, f.index + 1, plan.steps.size(),
               describe(plan.steps[f.index]), f.error.what());
  } else {
    fmt::print(stderr, "topo: {} interrupted after {} of {} steps\n", verb, outcome.done, plan.steps.size());
  }
  for (const StepFailure& u : outcome.undo_failures)
    fmt::print(stderr, "topo: undoing step {} failed: {}\n", u.index + 1, u.error.what());
  State now = read_state(expected, lab);
  if (outcome.undo_failures.empty() && now == snapshot) {
    fmt::print(stderr, "rolled back: the kernel is as it was.\n");
    return kExitFailed;
  }
  fmt::print(stderr, "topo: the rollback is incomplete; left behind:\n{}", differences(snapshot, now));
  return kExitRollbackFailed;
}

}  // namespace topo::cli
