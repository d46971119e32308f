// apply and destroy: one transaction over the kernel. Under the lab's lock (and the host's,
// when the lab sets host sysctls): claim what a killed run left, read the kernel, diff, refuse
// on conflicts, run the plan step by step with the journal ahead of each step, check the
// kernel after the last step, and after a failure roll back and check that the kernel is as
// it was. The kernel and its reader are interfaces, so that every path (rollback, recovery
// after a kill, the as-it-was check) is tested without root (tests/apply_test.cpp).
// Printing is the caller's: what happened comes back as a value.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "executor/lab_dir.h"
#include "executor/lab_kernel.h"
#include "executor/lab_record.h"
#include "executor/read_state.h"
#include "executor/transaction.h"
#include "planner/plan.h"
#include "planner/state.h"

namespace topo {

/// What a transaction tells while it runs; the CLI prints it. All optional.
class ApplyObserver {
 public:
  virtual ~ApplyObserver() = default;
  virtual void waiting_for_lab() {}   // another run of the lab holds its lock
  virtual void waiting_for_host() {}  // another lab's run holds the host's settings
  virtual void recovering() {}        // an earlier run was killed: its leftovers are claimed
  virtual void planned(const Plan&) {}
  virtual bool should_stop() { return false; }  // asked before each step (SIGINT, SIGTERM)
  virtual void step(size_t, const Step&) {}     // just before step i runs
  virtual void note(const std::string&) {}      // a remark that changes nothing
  virtual void after_last_step() {}             // before the check (a test hook's place)
};

struct ApplyRequest {
  std::string lab;
  bool wait = true;               // for another run of the same lab; false: fail at once
  std::string run_dir = kRunDir;  // where the labs' directories are (executor/lab_dir.h)
};

struct ApplyResult {
  enum class End {
    no_changes,           // the kernel already matched
    refused,              // conflicts: nothing was changed (plan.conflicts)
    done,                 // every step ran and the kernel is in the file's state
    rolled_back,          // failed, undone: the lab's part of the kernel is as it was
    rollback_incomplete,  // failed, and the undo left something (left_behind)
    unchecked,            // failed, undone, but the kernel could not be read again (unreadable)
  } end;
  Plan plan;
  Outcome outcome;
  bool exactly_as_it_was = false;  // rolled_back: the whole kernel too, not just the lab's part
  std::string left_behind;         // rollback_incomplete: what differs, a line each
  std::string others;              // rolled_back: what else changed meanwhile, not the lab's
  std::string unreadable;          // unchecked: why the kernel could not be read
};

using KernelFactory = std::function<std::unique_ptr<LabKernel>(const State& expected)>;

/// Makes the kernel match `expected` for the lab (destroy: an expected state of nothing). The
/// kernel for the steps comes from `open_kernel`, given the expected state it must find its
/// namespaces in. Throws KernelError for what stops it before any step (a lock, a read).
ApplyResult apply(State expected, const ApplyRequest& request, StateReader& reader, const KernelFactory& open_kernel,
                  ApplyObserver& observer);

/// The routes the lab made in namespaces it does not own, as its record keeps them.
std::set<RouteKey> recorded_routes(const std::string& lab, const std::string& run_dir = kRunDir);

/// What `topo plan` shows: the plan apply would make now, read as apply reads, without its
/// locks and changing nothing. What a killed run left unmarked is seen as claimed, as apply
/// claims it first. `expected` gets what apply adds to it (the put-backs), for renderers.
Plan plan_only(State& expected, const std::string& lab, StateReader& reader, const std::string& run_dir = kRunDir);

}  // namespace topo
