// Expected state vs observed state -> the changes that make the kernel match the lab, and
// the conflicts that forbid it. Pure and deterministic: changes come out in a fixed order
// whatever order the observed state was read in.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "planner/state.h"

namespace topo {

enum class Action { create, modify, replace, remove };

/// What a change is about, with its value before and after (nullopt: absent). Because both
/// sides are kept, the inverse of any change is the same change with the two swapped.
template <class T>
struct Delta {
  std::optional<T> before, after;
};

struct NamespaceDelta : Delta<NamespaceState> {};
struct LinkDelta : Delta<LinkState> {};
struct RouteDelta : Delta<RouteState> {};
struct SysctlDelta : Delta<std::string> {
  std::string key;
  /// "namespace" or "interface" when the plan makes what the key belongs to, so that there
  /// was no value to read before (the kernel's default comes with it); "" otherwise.
  std::string made_with = {};
};
struct FileDelta : Delta<std::string> {
  std::string file;  // "resolv.conf" or "hosts"
};
/// Many links of one namespace removed in one request (the planner makes these, never the
/// differ): their names. The step's contents say what each was, for the inverse.
struct LinkBatchDelta : Delta<std::vector<std::string>> {};
/// Bridge ports of one namespace that were made down, brought up together once all else is
/// made (the planner makes these too): `after` names those that go up; the inverse's
/// `before`, those that go down.
struct LinkUpDelta : Delta<std::vector<std::string>> {};

/// The whole content of the lab's nftables table in a namespace: it is replaced in one nftables
/// batch, so that the kernel takes all of the change or none of it.
struct TableDelta : Delta<NftTable> {};

using Subject = std::variant<NamespaceDelta, LinkDelta, RouteDelta, SysctlDelta, FileDelta, LinkBatchDelta, LinkUpDelta,
                             TableDelta>;

struct Change {
  Action action;
  std::string netns;
  Subject subject;
  /// Why a link that is itself unchanged must be made again: "underlay up0 is made again".
  std::string why;
};

/// Something in the kernel that the lab would have to touch but does not own.
struct Conflict {
  std::string netns;
  std::string message;  // "interface 'br0' exists and is not the lab's (no topo mark)"
};

struct Diff {
  std::vector<Change> changes;
  std::vector<Conflict> conflicts;
  /// What the lab wants that this namespace cannot give, and that is no error: a machine
  /// limit ([host] limits) where the key is not (topo is not in the machine's first network
  /// namespace). Shown with the plan; no step, and no change pending.
  std::vector<Conflict> notes;
  /// Sysctls of links the diff deletes, as they are: nothing to change (the value goes with
  /// the link), but a step writes each before its link goes, so that an undo that makes the
  /// link again puts the value back. Not shown: the kernel sees no change.
  std::vector<Change> kept;
};

/// A sysctl value as compared: the kernel prints vectors with tabs ("0\t2147483647"), the
/// lab may write spaces; runs of either are one space, none at the ends.
std::string normalize_sysctl(std::string_view v);

/// A sysctl value as one integer (normalised first); nullopt when it is not one. What a
/// machine limit ([host] limits) compares.
std::optional<int64_t> sysctl_number(std::string_view v);

/// The mtu of each link of `expected` (by namespace and name): the file's, or where it gives
/// none the kernel's default where topo can tell it, so that a key left out of the file
/// means the kernel's default, whatever the file said before: a veth 1500; a bridge its
/// smallest port's (1500 without ports); a VXLAN its underlay's less its headers (50 bytes
/// over IPv4, 70 over IPv6; 1500 without one: measured); a macvlan its parent's. Where that
/// is one of the machine's own links, its mtu in `observed`; without it, those are left out.
std::map<std::pair<std::string, std::string>, int64_t> default_mtus(const State& expected,
                                                                    const State* observed = nullptr);

/// A route's key: its namespace, destination and metric.
using RouteKey = std::tuple<std::string, IpPrefix, int64_t>;

/// `lab` names the lab whose marks count as owned. Namespaces in `observed` that carry the
/// lab's mark but are not expected are removed; anything unmarked is never changed.
/// `lab_routes` are routes the lab made in namespaces it does not own through devices it
/// does not own either: their protocol says topo made them, but not which lab, so the
/// executor keeps their keys (executor/lab_record.h) and they count as the lab's too.
Diff diff(const State& expected, const State& observed, std::string_view lab,
          const std::set<RouteKey>& lab_routes = {});

}  // namespace topo
