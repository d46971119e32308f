// The host's sysctls are the machine's, and every lab on it shares them: two labs that both
// set net.ipv4.ip_forward = 1 hold it together. /run/topo/.host/sysctls says, for each host
// key some lab holds, its value from before the first of them (the original), which labs
// hold it and at what value, and what the first setting overwrote besides (the forwarding of
// each interface, which the kernel sets with ip_forward). The original goes back when the
// last lab holding the key lets it go (destroy, or an apply whose file no longer sets it);
// before that, letting go changes nothing in the kernel.
//
// A lab whose [host.policy] drops forwarded traffic holds the pseudo-key "policy.forward"
// (never written to the kernel), so that a lab forwarding in the host and one dropping what
// is forwarded there are reported as a conflict, whichever comes second.
//
// Every run that changes the file holds /run/topo/.host/lock, taken after the lab's own lock
// (always in that order, so that two runs never wait on each other). plan reads the file
// without the lock: it is replaced whole (written beside it, then renamed).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "executor/fd.h"
#include "executor/lab_dir.h"
#include "planner/diff.h"
#include "planner/state.h"

namespace topo {

struct HostSysctls {
  std::map<std::string, std::string> originals;                    // key -> its value before the first lab
  std::map<std::string, std::string> overwritten;                  // interface key -> its value before that
  std::map<std::string, std::map<std::string, std::string>> held;  // key -> lab -> value

  /// /run/topo/.host, made when missing (apply, destroy) or found (plan). Throws KernelError.
  static LabDir dir(bool make, const std::string& root = kRunDir);
  /// The file in `dir` (empty when there is none). Throws KernelError.
  static HostSysctls read(const LabDir& dir);
  /// Written whole, or removed when nothing is held. Throws KernelError.
  void write(const LabDir& dir) const;

  /// Whether `lab` holds any key (then its runs need the lock).
  bool holds(const std::string& lab) const;
  /// Adds to `expected`'s host the sysctls that go back to their original because `lab`, the
  /// last lab to hold them, no longer sets them (its file does not).
  void add_put_backs(State& expected, const std::string& lab) const;
  /// The host sysctls `expected` sets that another lab holds at another value, and a
  /// forwarding policy that would drop another lab's forwarded traffic (or the reverse).
  std::vector<Conflict> conflicts(const State& expected, const std::string& lab) const;
  /// After a run of `lab` that succeeded: it holds what `expected` (its file, without the
  /// put-backs) sets in host and nothing else; a key it is the first to hold gets its value
  /// in `observed` (read before the run) as the original. Keys nobody holds any more are
  /// forgotten, with what their first setting overwrote.
  void settle(const std::string& lab, const NamespaceState& expected, const NamespaceState* observed);
};

/// Whether a namespace's expected state drops forwarded traffic ([policy] forward = "drop").
bool drops_forwarding(const NamespaceState& ns);

/// The lock on /run/topo/.host/lock, held while it lives. When another lab's run holds it:
/// with `wait`, calls `waiting()` once and blocks; without, throws KernelError.
class HostLock {
 public:
  HostLock(const LabDir& dir, bool wait, const std::function<void()>& waiting);

 private:
  Fd fd_;
};

}  // namespace topo
