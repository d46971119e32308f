// The write-ahead journal of an apply or destroy, in /run/topo/LAB/journal. Before each step
// runs, a line says what the step may leave behind that the kernel's marks cannot name yet
// (a namespace or link made but not yet marked) and is fsync'd; the file goes when the run
// ends, rolled back or not. If topo is killed, the next run finds it and claims those objects
// (marks them as the lab's), then converges as usual.
//
// The same directory keeps sysctl-originals: the value each sysctl had in a namespace before
// the lab first set it there, so that destroy (in namespaces that outlive the lab), or an
// apply whose file no longer sets it, puts it back. The host's are shared with the other
// labs (executor/host_sysctls.h). And `adopted`: the namespaces the lab adopted, with their
// paths, so that the lab's part of them is found when the file no longer names them.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "executor/host_sysctls.h"
#include "executor/lab_dir.h"
#include "executor/fd.h"
#include "planner/diff.h"
#include "planner/plan.h"

namespace topo {

struct Claim {
  std::string netns, link;  // link "lo": the namespace itself
};

/// (namespace, key) -> the value before the lab.
using SysctlOriginals = std::map<std::pair<std::string, std::string>, std::string>;

/// An adopted namespace -> the other name the file adopts the same namespace by.
using Renames = std::map<std::string, std::string>;

/// What the lab left in its directory, seen through the file about to be planned or
/// applied: when the file adopts a namespace under another name than the last apply did
/// (the same namespace, by device and inode, as read_state compares them), what is kept
/// under the old name (sysctl originals, routes) is the new name's. Read only: a run that
/// succeeds keeps them under the new name.
struct LabRecords {
  Renames renamed;
  SysctlOriginals originals, overwritten;
  std::set<RouteKey> routes;
  static LabRecords read(const LabDir& dir, const State& expected);
};

class Journal {
 public:
  /// Opens (creating) DIR/journal. `dir` must outlive the journal, and so must `host` (the
  /// host's shared sysctls and their directory, held under their lock) when given. The
  /// sysctl originals kept under an old name of an adopted namespace (`renamed`) are taken
  /// as the new name's.
  explicit Journal(const LabDir& dir, HostSysctls* host = nullptr, const LabDir* host_dir = nullptr,
                   std::string lab = "", const Renames& renamed = {});
  /// Records what `step` may leave unmarked, and the lab's routes in `lasting` namespaces
  /// (those it does not own). Throws KernelError.
  void before(const Step& step, const std::vector<std::string>& lasting);
  /// Records `value` as what `key` had in `netns` before the lab, about to set it to `after`,
  /// unless a value is recorded already (the first wins; in host, the first of any lab's).
  /// Returns whether it recorded it: the setting is the first that changes the value.
  /// Throws KernelError.
  bool keep_original(const std::string& netns, const std::string& key, const std::string& value,
                     const std::string& after);
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
  /// The run succeeded: the originals of sysctls that `file` (the file's state) no longer
  /// sets, outside host, were put back, or their namespace is gone (removed by this run or
  /// an earlier one killed before it could say so, or gone with its process): they are
  /// forgotten.
  void keep_originals(const State& file);

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
  /// DIR/adopted: the namespaces the lab adopted when it was last applied, by name, with
  /// their paths; written by `keep_adopted` from an expected state.
  static std::map<std::string, std::string> adopted(const LabDir& dir);
  static void keep_adopted(const LabDir& dir, const State& expected);

 private:
  void append(const std::string& line);
  void save_originals();
  const LabDir& dir_;
  HostSysctls* host_;
  const LabDir* host_dir_;
  std::string lab_;
  HostSysctls host_at_start_;
  Fd fd_;
  SysctlOriginals originals_;
  const SysctlOriginals at_start_;
  SysctlOriginals overwritten_;
  const SysctlOriginals overwritten_at_start_;
  bool unsaved_ = false;  // originals renamed, not yet written so
  std::set<RouteKey> routes_;
  const std::set<RouteKey> routes_at_start_;
};

/// What plan and apply add to the file's expected state `expected` before reading the
/// kernel, from what the lab left in `dir` (`records`, read from the same file): the
/// namespaces it adopted when last applied that the file no longer names (if they are still
/// there: the lab's part of them goes; under a name the file no longer uses for the same
/// namespace, only its /etc/netns files), and the original of each sysctl it set and its
/// file no longer sets, which goes back (in host, if no other lab holds it).
void add_put_backs(State& expected, const std::string& lab, const LabDir& dir, const HostSysctls& host,
                   const LabRecords& records);

}  // namespace topo
