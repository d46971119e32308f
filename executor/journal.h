// The write-ahead journal of an apply or destroy, in /run/topo/LAB/journal. Before each step
// runs, a line says what the step may leave behind that the kernel's marks cannot name yet
// (a namespace or link made but not yet marked) and is fsync'd; the file goes when the run
// ends, rolled back or not. If topo is killed, the next run finds it and claims those objects
// (marks them as the lab's), then converges as usual.
//
// The same directory keeps sysctl-originals: the value each sysctl had in a namespace that
// outlives the lab (host, adopted) before the lab first set it, so that destroy, or an apply
// whose file no longer sets it, puts it back.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "executor/lab_dir.h"
#include "executor/netns.h"
#include "planner/diff.h"
#include "planner/plan.h"

namespace topo {

struct Claim {
  std::string netns, link;  // link "lo": the namespace itself
};

/// (namespace, key) -> the value before the lab.
using SysctlOriginals = std::map<std::pair<std::string, std::string>, std::string>;

class Journal {
 public:
  /// Opens (creating) DIR/journal. `dir` must outlive the journal.
  explicit Journal(const LabDir& dir);
  /// Records what `step` may leave unmarked, and any first original sysctl value of a
  /// namespace in `lasting` (those the lab does not own). Throws KernelError.
  void before(const Step& step, const std::vector<std::string>& lasting);
  /// The run is over: the journal goes.
  void close();
  /// The run was rolled back: the sysctl originals and the lab's routes are as they were
  /// before it.
  void undo_originals();
  /// Notes what a sysctl step is about to overwrite besides its own key (the kernel copies
  /// ip_forward to every interface): first values win, as for the originals.
  void note_overwritten(const std::string& netns, const std::map<std::string, std::string>& values);
  /// The originals so far (this run's included), and what was overwritten with them.
  const SysctlOriginals& current_originals() const { return originals_; }
  const SysctlOriginals& current_overwritten() const { return overwritten_; }
  /// The run succeeded: the lab's routes in lasting namespaces are `now` (the file's).
  void keep_routes(std::set<RouteKey> now);

  /// What a killed run left in DIR/journal (nothing when there is none).
  static std::vector<Claim> leftovers(const LabDir& dir);
  static SysctlOriginals originals(const LabDir& dir);
  /// DIR/sysctl-overwritten: the per-interface values a sysctl step overwrote as a side
  /// effect, written back when that sysctl gets its original value back.
  static SysctlOriginals overwritten(const LabDir& dir);
  /// The routes the lab made in namespaces it does not own (DIR/routes): their protocol
  /// says topo's, not which lab's. Kept before each route step runs (a superset, should topo
  /// die), set to the file's once the run succeeds.
  static std::set<RouteKey> routes(const LabDir& dir);
  static void forget_originals(const LabDir& dir);

 private:
  void append(const std::string& line);
  const LabDir& dir_;
  Fd fd_;
  SysctlOriginals originals_;
  const SysctlOriginals at_start_;
  SysctlOriginals overwritten_;
  const SysctlOriginals overwritten_at_start_;
  std::set<RouteKey> routes_;
  const std::set<RouteKey> routes_at_start_;
};

}  // namespace topo
