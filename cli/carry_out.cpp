#include "cli/carry_out.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "cli/commands.h"
#include "executor/privilege.h"
#include "executor/run.h"
#include "parser/diagnostics.h"
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

// What the user sees while steps run: a line per step with --verbose; on a terminal, one
// progress line rewritten in place; otherwise nothing until the summary.
class Progress {
 public:
  Progress(CarryOut::Output output, size_t total)
      : output_(output), total_(total), tty_(output == CarryOut::Output::normal && ::isatty(2)) {}
  ~Progress() {
    if (shown_) fmt::print(stderr, "\r\033[K");
  }
  void step(size_t i, const Step& s) {
    if (output_ == CarryOut::Output::verbose) {
      fmt::print("[{}/{}] {}\n", i + 1, total_, describe(s));
    } else if (tty_ && (i % 16 == 0 || i + 1 == total_)) {
      fmt::print(stderr, "\r\033[K[{}/{}] {}", i + 1, total_, s.netns);
      shown_ = true;
    }
  }

 private:
  CarryOut::Output output_;
  size_t total_;
  bool tty_, shown_ = false;
};

std::string steps(size_t n) { return fmt::format("{} step{}", n, n == 1 ? "" : "s"); }

// What the user sees while a transaction runs.
class Printer : public ApplyObserver {
 public:
  Printer(const CarryOut& how) : how_(how) {}
  void waiting_for_lab() override {
    fmt::print(stderr, "topo: waiting for another apply or destroy of lab '{}' to finish\n", how_.lab);
  }
  void waiting_for_host() override {
    fmt::print(stderr, "topo: waiting for another lab's apply or destroy to finish with the host's settings\n");
  }
  void recovering() override {
    fmt::print(stderr, "topo: an earlier run of lab '{}' was interrupted; taking back what it made\n", how_.lab);
  }
  void planned(const Plan& plan) override {
    progress_.emplace(how_.output, plan.steps.size());
    signals_.emplace();
  }
  bool should_stop() override { return signals_ && signals_->pending(); }
  void step(size_t i, const Step& s) override { progress_->step(i, s); }
  void note(const std::string& text) override { fmt::print(stderr, "topo: {}\n", text); }
  // The run is over: the progress line goes, and signals are no longer held.
  void done() {
    progress_.reset();
    signals_.reset();
  }

 private:
  const CarryOut& how_;
  std::optional<Progress> progress_;
  std::optional<HeldSignals> signals_;
};

int report(const ApplyResult& r, const CarryOut& how, double seconds) {
  const Plan& plan = r.plan;
  const std::string& verb = how.verb;
  bool through = r.end == ApplyResult::End::no_changes || r.end == ApplyResult::End::done;
  if (through && how.output != CarryOut::Output::quiet)
    for (const Conflict& n : plan.notes) fmt::print(stderr, "note: {}: {}\n", n.netns, n.message);
  switch (r.end) {
    case ApplyResult::End::refused:
      fmt::print(stderr, "{}", plan_text(plan));
      fmt::print(stderr, "topo: {} refused: nothing was changed.\n", verb);
      return kExitFailed;
    case ApplyResult::End::no_changes:
      if (how.output != CarryOut::Output::quiet) fmt::print("No changes. The kernel matches the lab.\n");
      return kExitOk;
    case ApplyResult::End::done:
      if (how.output == CarryOut::Output::quiet) return kExitOk;
      if (verb == "destroy")
        fmt::print("Destroyed lab '{}': {} removed ({} in {:.2f} s).\n", how.lab, plan.to_destroy,
                   steps(plan.steps.size()), seconds);
      else
        fmt::print("Applied lab '{}': {} added, {} changed, {} destroyed ({} in {:.2f} s).\n", how.lab, plan.to_add,
                   plan.to_change, plan.to_destroy, steps(plan.steps.size()), seconds);
      return kExitOk;
    default: break;
  }
  const Outcome& outcome = r.outcome;
  if (outcome.unverified(plan.steps.size())) {
    fmt::print(stderr, "topo: {} failed after its last step: {}\n", verb, outcome.failure->error.what());
  } else if (outcome.failure) {
    const StepFailure& f = *outcome.failure;
    fmt::print(stderr, "topo: {} failed at step {} of {}: {}\n  {}\n", verb, f.index + 1, plan.steps.size(),
               describe(plan.steps[f.index]), f.error.what());
    if (f.error.error() == EEXIST && plan.steps[f.index].action == Action::create)
      fmt::print(stderr,
                 "  it was not there when the plan was made: something else made it since; topo left it alone\n");
  } else {
    fmt::print(stderr, "topo: {} interrupted after {} of {} steps\n", verb, outcome.done, plan.steps.size());
  }
  for (const StepFailure& u : outcome.undo_failures)
    fmt::print(stderr, "topo: undoing step {} failed: {}\n", u.index + 1, u.error.what());
  if (r.end == ApplyResult::End::unchecked) {
    fmt::print(stderr, "topo: error: {}\n", shown(r.unreadable));  // may quote names the kernel gave
    return kExitFailed;
  }
  if (r.end == ApplyResult::End::rollback_incomplete) {
    fmt::print(stderr, "topo: the rollback is incomplete; left behind:\n{}", r.left_behind);
    return kExitRollbackFailed;
  }
  if (r.exactly_as_it_was)
    fmt::print(stderr, "rolled back: the kernel is as it was.\n");
  else
    fmt::print(stderr, "rolled back: the lab's part of the kernel is as it was; meanwhile, something else changed:\n{}",
               r.others);
  return kExitFailed;
}

}  // namespace

void add_output_flags(CLI::App& sub, CarryOut::Output& output) {
  auto* verbose = sub.add_flag_callback(
      "-v,--verbose", [&output] { output = CarryOut::Output::verbose; }, "Print each step as it runs");
  auto* quiet = sub.add_flag_callback(
      "-q,--quiet", [&output] { output = CarryOut::Output::quiet; }, "Print nothing but errors");
  verbose->excludes(quiet);
}

int carry_out(State expected, const CarryOut& how) {
  auto start = std::chrono::steady_clock::now();
  require_capabilities(how.verb, {net_admin_to_change(), sys_admin_to_make_namespaces()});
  Printer printer(how);
  ApplyResult result = apply_to_kernel(std::move(expected), {how.lab, how.wait}, printer);
  printer.done();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report(result, how, seconds);
}

}  // namespace topo::cli
