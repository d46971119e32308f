#include "cli/carry_out.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "executor/fault_injection.h"
#include "executor/host_sysctls.h"
#include "executor/journal.h"
#include "executor/lab_dir.h"
#include "executor/lab_lock.h"
#include "executor/netlink_kernel.h"
#include "executor/privilege.h"
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

std::string steps(size_t n) { return fmt::format("{} step{}", n, n == 1 ? "" : "s"); }

// What changed between the read before a run and the read after its rollback, in two
// parts: the lab's (what the rollback left behind) and the rest — links without the lab's
// mark made, changed or deleted meanwhile by something else, an adopted namespace whose
// process went. The rollback answers for the first part only.
struct Differences {
  std::string lab, others;
};

// A namespace's state without the links that are not the lab's and the routes through them.
NamespaceState lab_part(NamespaceState ns, const std::string& mark, std::set<std::string>& others) {
  std::set<std::string> gone;
  std::erase_if(ns.links, [&](const LinkState& l) {
    if (l.alias == mark || l.name == "lo") return false;
    gone.insert(l.name);
    return true;
  });
  std::erase_if(ns.routes, [&](const RouteState& r) { return gone.count(r.dev) > 0; });
  others.insert(gone.begin(), gone.end());
  return ns;
}

// The links of `names` that differ between the two, by name: new, gone or changed.
std::vector<std::string> changed_links(const NamespaceState& before, const NamespaceState& now,
                                       const std::set<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const LinkState* b = before.find_link(name);
    const LinkState* a = now.find_link(name);
    if (!b) out.push_back("interface " + name + " is new");
    else if (!a) out.push_back("interface " + name + " is gone");
    else if (!(*a == *b)) out.push_back("interface " + name + " changed");
  }
  return out;
}

// What differs between two reads of one namespace, a line each: what the rollback left.
std::string what_differs(const NamespaceState& was, const NamespaceState& now) {
  std::string out;
  auto line = [&out](const std::string& text) { out += "    " + text + "\n"; };
  if (was.exists != now.exists) line(was.exists ? "the namespace is gone" : "the namespace is new");
  if (was.mark != now.mark) line(fmt::format("its mark '{}' is now '{}'", was.mark, now.mark));
  std::set<std::string> names;
  for (const auto* ns : {&was, &now})
    for (const LinkState& l : ns->links) names.insert(l.name);
  for (const std::string& name : names) {
    const LinkState* b = was.find_link(name);
    const LinkState* a = now.find_link(name);
    if (!a) line(fmt::format("{} is gone", describe(*b)));
    else if (!b) line(fmt::format("{} is new", describe(*a)));
    else if (!(*a == *b)) line(fmt::format("{} was {}", describe(*a), describe(*b)));
  }
  for (const RouteState& r : was.routes)
    if (std::find(now.routes.begin(), now.routes.end(), r) == now.routes.end()) line(describe(r) + " is gone");
  for (const RouteState& r : now.routes)
    if (std::find(was.routes.begin(), was.routes.end(), r) == was.routes.end()) line(describe(r) + " is new");
  for (const auto& [key, value] : was.sysctls)
    if (auto n = now.sysctls.find(key); n == now.sysctls.end() || n->second != value)
      line(fmt::format("sysctl {} was {}, is {}", key, value, n == now.sysctls.end() ? "unreadable" : n->second));
  if (was.files != now.files) line("its files in /etc/netns differ");
  if (was.nat != now.nat) {
    const NatTable& t = was.nat ? *was.nat : *now.nat;
    line(fmt::format("nft table inet {} {}", t.name, !now.nat ? "is gone" : !was.nat ? "is new" : "differs"));
  }
  return out;
}

Differences differences(const State& expected, const State& before, const State& after, const std::string& mark) {
  Differences out;
  for (const auto& [name, ns] : before.namespaces) {
    const NamespaceState* now = after.find(name);
    auto wanted = expected.namespaces.find(name);
    bool adopted = wanted != expected.namespaces.end() && wanted->second.adopted;
    if (now && *now == ns) continue;
    if (adopted && ns.exists && (!now || !now->exists)) {
      out.others += fmt::format("  namespace {} is gone (it is not the lab's: it went with its process)\n", name);
      continue;
    }
    std::set<std::string> others;
    if (!now) {
      out.lab += fmt::format("  namespace {} is gone\n", name);
      continue;
    }
    if (NamespaceState mine = lab_part(*now, mark, others), was = lab_part(ns, mark, others); !(mine == was)) {
      out.lab += fmt::format("  namespace {}:\n{}", name, what_differs(was, mine));
      continue;
    }
    for (const std::string& what : changed_links(ns, *now, others))
      out.others += fmt::format("  namespace {}: {}, not the lab's\n", name, what);
  }
  for (const auto& [name, ns] : after.namespaces)
    if (!before.find(name)) out.lab += fmt::format("  namespace {} is new\n", name);
  return out;
}

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

// What a killed run made but could not mark yet becomes the lab's again.
void recover(const State& expected, const std::string& lab, const LabDir& dir) {
  std::vector<Claim> claims = Journal::leftovers(dir);
  if (claims.empty()) return;
  fmt::print(stderr, "topo: an earlier run of lab '{}' was interrupted; taking back what it made\n", lab);
  NetlinkKernel kernel(expected, lab);
  for (const Claim& c : claims) kernel.claim(c.netns, c.link);
}

}  // namespace

void add_output_flags(CLI::App& sub, CarryOut::Output& output) {
  auto* verbose = sub.add_flag_callback("-v,--verbose", [&output] { output = CarryOut::Output::verbose; },
                                        "Print each step as it runs");
  auto* quiet = sub.add_flag_callback("-q,--quiet", [&output] { output = CarryOut::Output::quiet; },
                                      "Print nothing but errors");
  verbose->excludes(quiet);
}

int carry_out(State expected, const CarryOut& how) {
  const std::string& lab = how.lab;
  const std::string& verb = how.verb;
  auto start = std::chrono::steady_clock::now();
  require_capabilities(verb, {net_admin_to_change(), sys_admin_to_make_namespaces()});
  LabDir dir = LabDir::make(lab);
  LabLock lock(dir, lab, how.wait, [&] {
    fmt::print(stderr, "topo: waiting for another apply or destroy of lab '{}' to finish\n", lab);
  });
  const State file = file_part(expected);
  const NamespaceState& file_host = file.namespaces.at("host");
  LabDir host_dir = HostSysctls::dir(false);
  HostSysctls host = HostSysctls::read(host_dir);
  std::optional<HostLock> host_lock;  // after the lab's lock, never before: no two runs wait on each other
  if (!file_host.sysctls.empty() || drops_forwarding(file_host) || host.holds(lab)) {
    host_dir = HostSysctls::dir(true);
    host_lock.emplace(host_dir, how.wait, [] {
      fmt::print(stderr, "topo: waiting for another lab's apply or destroy to finish with the host's settings\n");
    });
    host = HostSysctls::read(host_dir);
  }
  recover(expected, lab, dir);
  LabRecords records = LabRecords::read(dir, expected);
  add_put_backs(expected, lab, dir, host, records);
  State snapshot = read_state(expected, lab, records.originals);
  Diff changes = diff(expected, snapshot, lab, records.routes);
  for (Conflict& c : host.conflicts(file, lab)) changes.conflicts.push_back(std::move(c));
  Plan plan = make_plan(std::move(changes));
  if (!plan.conflicts.empty()) {
    fmt::print(stderr, "{}", plan_text(plan));
    fmt::print(stderr, "topo: {} refused: nothing was changed.\n", verb);
    return kExitFailed;
  }
  // After a run that succeeded, what the lab holds is what its file sets.
  auto settle = [&](Journal& journal) {
    journal.keep_originals(file);
    Journal::keep_adopted(dir, file);
    if (!host_lock) return;
    host.settle(lab, file_host, snapshot.find("host"));
    host.write(host_dir);
  };
  if (plan.steps.empty()) {
    Journal journal(dir, host_lock ? &host : nullptr, host_lock ? &host_dir : nullptr, lab, records.renamed);
    settle(journal);
    journal.close();  // a recovered run leaves nothing to redo
    if (how.output != CarryOut::Output::quiet) fmt::print("No changes. The kernel matches the lab.\n");
    return kExitOk;
  }
  run_after_plan_hook();
  NetlinkKernel netlink(expected, lab);
  netlink.refuse_nft_batch(FaultInjectingKernel::fail_nft_from_env());
  FaultInjectingKernel faulty(netlink, FaultInjectingKernel::fail_step_from_env(),
                              FaultInjectingKernel::kill_step_from_env());
  Kernel& kernel = faulty;
  Outcome outcome;
  {
    HeldSignals signals;
    Journal journal(dir, host_lock ? &host : nullptr, host_lock ? &host_dir : nullptr, lab, records.renamed);
    netlink.put_back_from(&journal.current_originals(), &journal.current_overwritten());
    std::vector<std::string> keep = lasting(expected);
    Progress progress(how.output, plan.steps.size());
    auto before_step = [&](size_t i) {
      const Step& step = plan.steps[i];
      progress.step(i, step);
      journal.before(step, keep);
      // The value a sysctl had before the lab first set it goes back when the file drops it
      // (or the lab goes); what the kernel overwrote with it too (forwarding of each
      // interface), but only what the first setting overwrote: an interface made since
      // inherited the lab's value, and the kernel's own write of the original resets it.
      const auto* y = std::get_if<SysctlDelta>(&step.subject);
      if (!y || !y->after) return;
      std::optional<std::string> was = y->before ? y->before : netlink.read_sysctl(step.netns, y->key);
      if (was && journal.keep_original(step.netns, y->key, *was, *y->after))
        journal.note_overwritten(step.netns, netlink.overwritten_by(step));
    };
    // Every step said it did its part; the kernel may still have done more (a route it
    // flushed with an address) or less (a value it refused without an error). The whole
    // state is read again and must be the file's, or the transaction rolls back.
    std::set<RouteKey> lab_routes = records.routes;
    for (const RouteKey& k : routes_in(expected, keep)) lab_routes.insert(k);
    auto verify = [&] {
      run_after_last_step_hook();
      try {
        netlink.settle_deletions();
      } catch (const KernelError& e) {
        fmt::print(stderr, "topo: {}\n", e.what());  // done, but the kernel is slow to reap
      }
      Diff left = diff(expected, read_state(expected, lab, records.originals), lab, lab_routes);
      if (!left.changes.empty() || !left.conflicts.empty())
        throw KernelError("checking", "the kernel after the last step",
                          "it is not in the file's state; still to do:\n" + indented(describe(left)));
    };
    outcome = run_transaction(plan.steps, kernel, [&] { return signals.pending(); }, before_step, verify);
    if (outcome.rolled_back()) journal.undo_originals();
    if (outcome.ok()) {
      journal.keep_routes(routes_in(expected, keep));
      settle(journal);
    }
    journal.close();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (outcome.ok()) {
    if (how.output == CarryOut::Output::quiet) return kExitOk;
    if (verb == "destroy")
      fmt::print("Destroyed lab '{}': {} removed ({} in {:.2f} s).\n", lab, plan.to_destroy,
                 steps(plan.steps.size()), seconds);
    else
      fmt::print("Applied lab '{}': {} added, {} changed, {} destroyed ({} in {:.2f} s).\n", lab,
                 plan.to_add, plan.to_change, plan.to_destroy, steps(plan.steps.size()), seconds);
    return kExitOk;
  }
  if (outcome.unverified(plan.steps.size())) {
    fmt::print(stderr, "topo: {} failed after its last step: {}\n", verb, outcome.failure->error.what());
  } else if (outcome.failure) {
    const StepFailure& f = *outcome.failure;
    fmt::print(stderr, "topo: {} failed at step {} of {}: {}\n  {}\n", verb, f.index + 1, plan.steps.size(),
               describe(plan.steps[f.index]), f.error.what());
    if (f.error.error() == EEXIST && plan.steps[f.index].action == Action::create)
      fmt::print(stderr, "  it was not there when the plan was made: something else made it since; topo left it alone\n");
  } else {
    fmt::print(stderr, "topo: {} interrupted after {} of {} steps\n", verb, outcome.done, plan.steps.size());
  }
  for (const StepFailure& u : outcome.undo_failures)
    fmt::print(stderr, "topo: undoing step {} failed: {}\n", u.index + 1, u.error.what());
  State now = read_state(expected, lab, records.originals);
  // The snapshot decides, not the undo steps: one that failed may have found its work done.
  if (now == snapshot) {
    fmt::print(stderr, "rolled back: the kernel is as it was.\n");
    return kExitFailed;
  }
  Differences left = differences(expected, snapshot, now, ownership_mark(lab));
  if (left.lab.empty()) {
    fmt::print(stderr, "rolled back: the lab's part of the kernel is as it was; meanwhile, something else changed:\n{}",
               left.others);
    return kExitFailed;
  }
  fmt::print(stderr, "topo: the rollback is incomplete; left behind:\n{}", left.lab);
  return kExitRollbackFailed;
}

}  // namespace topo::cli
