#include "executor/apply.h"

#include <optional>
#include <set>
#include <vector>

#include "executor/host_sysctls.h"
#include "executor/journal.h"
#include "executor/lab_dir.h"
#include "executor/lab_lock.h"
#include "executor/lab_record.h"
#include "executor/left_behind.h"
#include "planner/diff.h"
#include "planner/render_text.h"

namespace topo {
namespace {

// Namespaces that outlive the lab (host, adopted): the lab's routes there are noted.
std::vector<std::string> lasting(const State& expected) {
  std::vector<std::string> out;
  for (const auto& [name, ns] : expected.namespaces)
    if (ns.adopted) out.push_back(name);
  return out;
}

// The routes the file wants in the namespaces that outlive the lab.
std::set<RouteKey> routes_in(const State& expected, const std::vector<std::string>& lasting) {
  std::set<RouteKey> out;
  for (const std::string& ns : lasting)
    for (const RouteState& r : expected.namespaces.at(ns).routes) out.insert({ns, r.to, r.metric});
  return out;
}

// The file's own part of an expected state that the journal keeps: which namespaces, adopted
// where, with which sysctls (and the host's filter chains, for the forwarding policy).
State file_part(const State& expected) {
  State out;
  for (const auto& [name, ns] : expected.namespaces) {
    NamespaceState& f = out.namespaces[name];
    f.exists = ns.exists;
    f.adopted = ns.adopted;
    f.path = ns.path;
    f.sysctls = ns.sysctls;
    if (name == "host") f.nat = ns.nat;
  }
  return out;
}

// Each line of `text` indented by four spaces.
std::string indented(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += "    " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

// What a killed run made but could not mark yet becomes the lab's again.
void recover(const State& expected, const LabDir& dir, const KernelFactory& open_kernel, ApplyObserver& observer) {
  std::vector<Claim> claims = Journal::leftovers(dir);
  if (claims.empty()) return;
  observer.recovering();
  std::unique_ptr<LabKernel> kernel = open_kernel(expected);
  for (const Claim& c : claims) kernel->claim(c.netns, c.link);
}

// The value a sysctl had before the lab first set it goes back when the file drops it (or
// the lab goes); what the kernel overwrote with it too (forwarding of each interface), but
// only what the first setting overwrote: an interface made since inherited the lab's value,
// and the kernel's own write of the original resets it.
void keep_original(const Step& step, LabKernel& kernel, LabRecord& record) {
  const auto* y = std::get_if<SysctlDelta>(&step.subject);
  if (!y || !y->after) return;
  std::optional<std::string> was = y->before ? y->before : kernel.read_sysctl(step.netns, y->key);
  if (was && record.keep_original(step.netns, y->key, *was, *y->after))
    record.note_overwritten(step.netns, kernel.overwritten_by(step));
}

// In `observed`, what the journal of a killed run names and is unmarked carries the lab's
// mark, as apply's recovery would give it.
void as_claimed(State& observed, const std::vector<Claim>& claims, const std::string& lab) {
  const std::string mark = ownership_mark(lab);
  for (const Claim& c : claims) {
    auto ns = observed.namespaces.find(c.netns);
    if (ns == observed.namespaces.end() || !ns->second.exists) continue;
    if (c.link == "lo" && ns->second.mark.empty()) ns->second.mark = mark;
    for (LinkState& l : ns->second.links)
      if (l.name == c.link && l.alias.empty()) l.alias = mark;
  }
}

}  // namespace

std::set<RouteKey> recorded_routes(const std::string& lab, const std::string& run_dir) {
  return LabRecord::routes(LabDir::find(lab, run_dir));
}

Plan plan_only(State& expected, const std::string& lab, StateReader& reader, const std::string& run_dir) {
  LabDir dir = LabDir::find(lab, run_dir);
  HostSysctls host = HostSysctls::read(HostSysctls::dir(false, run_dir));
  std::vector<Conflict> shared = host.conflicts(expected, lab);
  LabRecords records = LabRecords::read(dir, expected);
  add_put_backs(expected, lab, dir, host, records);
  State observed = reader.read(expected, records.originals);
  as_claimed(observed, Journal::leftovers(dir), lab);
  Diff changes = diff(expected, observed, lab, records.routes);
  for (Conflict& c : shared) changes.conflicts.push_back(std::move(c));
  return make_plan(std::move(changes));
}

ApplyResult apply(State expected, const ApplyRequest& request, StateReader& reader, const KernelFactory& open_kernel,
                  ApplyObserver& observer) {
  const std::string& lab = request.lab;
  LabDir dir = LabDir::make(lab, request.run_dir);
  LabLock lock(dir, lab, request.wait, [&] { observer.waiting_for_lab(); });
  const State file = file_part(expected);
  const NamespaceState& file_host = file.namespaces.at("host");
  LabDir host_dir = HostSysctls::dir(false, request.run_dir);
  HostSysctls host = HostSysctls::read(host_dir);
  std::optional<HostLock> host_lock;  // after the lab's lock, never before: no two runs wait on each other
  if (!file_host.sysctls.empty() || drops_forwarding(file_host) || host.holds(lab)) {
    host_dir = HostSysctls::dir(true, request.run_dir);
    host_lock.emplace(host_dir, request.wait, [&] { observer.waiting_for_host(); });
    host = HostSysctls::read(host_dir);
  }
  recover(expected, dir, open_kernel, observer);
  LabRecords records = LabRecords::read(dir, expected);
  add_put_backs(expected, lab, dir, host, records);
  State snapshot = reader.read(expected, records.originals);
  Diff changes = diff(expected, snapshot, lab, records.routes);
  for (Conflict& c : host.conflicts(file, lab)) changes.conflicts.push_back(std::move(c));
  ApplyResult result{ApplyResult::End::refused, make_plan(std::move(changes)), {}, false, {}, {}, {}};
  const Plan& plan = result.plan;
  if (!plan.conflicts.empty()) return result;
  // After a run that succeeded, what the lab holds is what its file sets.
  auto settle = [&](LabRecord& record) {
    record.keep_originals(file);
    LabRecord::keep_adopted(dir, file);
    if (!host_lock) return;
    host.settle(lab, file_host, snapshot.find("host"));
    host.write(host_dir);
  };
  LabRecord record(dir, host_lock ? &host : nullptr, host_lock ? &host_dir : nullptr, lab, records.renamed);
  if (plan.steps.empty()) {
    settle(record);
    Journal(dir).close();  // a recovered run leaves nothing to redo
    result.end = ApplyResult::End::no_changes;
    return result;
  }
  observer.planned(plan);
  std::unique_ptr<LabKernel> kernel = open_kernel(expected);
  {
    Journal journal(dir);
    kernel->put_back_from(&record.current_originals(), &record.current_overwritten());
    std::vector<std::string> keep = lasting(expected);
    auto before_step = [&](size_t i) {
      const Step& step = plan.steps[i];
      observer.step(i, step);
      journal.before(step);
      record.before(step, keep);
      keep_original(step, *kernel, record);
    };
    // Every step said it did its part; the kernel may still have done more (a route it
    // flushed with an address) or less (a value it refused without an error). The whole
    // state is read again and must be the file's, or the transaction rolls back.
    std::set<RouteKey> lab_routes = records.routes;
    for (const RouteKey& k : routes_in(expected, keep)) lab_routes.insert(k);
    auto verify = [&] {
      observer.after_last_step();
      try {
        kernel->settle_deletions();
      } catch (const KernelError& e) {
        observer.note(e.what());  // done, but the kernel is slow to reap
      }
      Diff left = diff(expected, reader.read(expected, records.originals), lab, lab_routes);
      if (!left.changes.empty() || !left.conflicts.empty())
        throw KernelError("checking", "the kernel after the last step",
                          "it is not in the file's state; still to do:\n" + indented(describe(left)));
    };
    result.outcome = run_transaction(
        plan.steps, *kernel, [&] { return observer.should_stop(); }, before_step, verify);
    if (result.outcome.rolled_back()) record.undo();
    if (result.outcome.ok()) {
      record.keep_routes(routes_in(expected, keep));
      settle(record);
    }
    journal.close();
  }
  if (result.outcome.ok()) {
    result.end = ApplyResult::End::done;
    return result;
  }
  State now;
  try {
    now = reader.read(expected, records.originals);
  } catch (const KernelError& e) {
    result.end = ApplyResult::End::unchecked;
    result.unreadable = e.what();
    return result;
  }
  // The snapshot decides, not the undo steps: one that failed may have found its work done.
  result.end = ApplyResult::End::rolled_back;
  if (now == snapshot) {
    result.exactly_as_it_was = true;
    return result;
  }
  Differences left = differences(expected, snapshot, now, ownership_mark(lab));
  if (left.lab.empty()) {
    result.others = left.others;
    return result;
  }
  result.end = ApplyResult::End::rollback_incomplete;
  result.left_behind = left.lab;
  return result;
}

}  // namespace topo
