// The lab's record, in /run/topo/LAB: what the lab holds that the kernel has no place for.
// Not a log: state, kept across runs, as the kernel's own state is.
//  - sysctl-originals: the value each sysctl had in a namespace before the lab first set it
//    there, so that destroy (in namespaces that outlive the lab), or an apply whose file no
//    longer sets it, puts it back. The kernel keeps only the current value. The host's are
//    shared with the other labs (executor/host_sysctls.h).
//  - sysctl-overwritten: the per-interface values a forwarding key overwrote as a side
//    effect, written back when that key gets its original back.
//  - routes: the routes the lab made in namespaces it does not own (host, adopted): their
//    protocol says topo's, not which lab's, and a route carries no other mark.
//  - adopted: the namespaces the lab adopted, with their paths, so that the lab's part of
//    them is found when the file no longer names them.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "executor/host_sysctls.h"
#include "executor/lab_dir.h"
#include "planner/diff.h"
#include "planner/plan.h"

namespace topo {

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

/// The record as one apply or destroy changes it: each change is written at once (a kill
/// leaves it true), and a rollback puts it back as it was at the start.
class LabRecord {
 public:
  /// `dir` must outlive the record, and so must `host` (the host's shared sysctls and their
  /// directory, held under their lock) when given. The sysctl originals kept under an old
  /// name of an adopted namespace (`renamed`) are taken as the new name's.
  explicit LabRecord(const LabDir& dir, HostSysctls* host = nullptr, const LabDir* host_dir = nullptr,
                     std::string lab = "", const Renames& renamed = {});
  /// Before `step` runs: the lab's routes it makes in `lasting` namespaces (those the lab
  /// does not own) are noted. Throws KernelError.
  void before(const Step& step, const std::vector<std::string>& lasting);
  /// Records `value` as what `key` had in `netns` before the lab, about to set it to `after`,
  /// unless a value is recorded already (the first wins; in host, the first of any lab's).
  /// Returns whether it recorded it: the setting is the first that changes the value.
  /// Throws KernelError.
  bool keep_original(const std::string& netns, const std::string& key, const std::string& value,
                     const std::string& after);
  /// Notes what a sysctl step is about to overwrite besides its own key (the kernel copies
  /// ip_forward to every interface): first values win, as for the originals.
  void note_overwritten(const std::string& netns, const std::map<std::string, std::string>& values);
  /// The run was rolled back: the record is as it was before it.
  void undo();
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

  static SysctlOriginals originals(const LabDir& dir);
  static SysctlOriginals overwritten(const LabDir& dir);
  /// Kept before each route step runs (a superset, should topo die), set to the file's once
  /// the run succeeds.
  static std::set<RouteKey> routes(const LabDir& dir);
  /// The namespaces the lab adopted when it was last applied, by name, with their paths;
  /// written by `keep_adopted` from an expected state.
  static std::map<std::string, std::string> adopted(const LabDir& dir);
  static void keep_adopted(const LabDir& dir, const State& expected);

 private:
  void save_originals();
  const LabDir& dir_;
  HostSysctls* host_;
  const LabDir* host_dir_;
  std::string lab_;
  HostSysctls host_at_start_;
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
