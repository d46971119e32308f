// Diff -> the ordered steps that carry it out, each with its inverse, computed before
// anything runs so that the executor can undo a half-done apply exactly.
//
// Ordering: phases (the Phase enum in plan.cpp lists them all, each with its reason), and
// within the link phases the dependency graph: removes first, dependents before what they
// depend on (a macvlan before its parent, a port before its bridge, a namespace with all in
// it at once); then creates, dependencies before dependents (a bridge before its ports, an
// underlay before its VXLAN; a macvlan whose mtu goes down before its parent's), interface
// sysctls after their links, routes (direct ones before those through a gateway), carrier,
// NAT, files. Around them: sysctls of links made again kept, ports released from a bridge
// that goes, dying bridges quieted, far veth ends batched.
// A replace is a remove and a create; a veth pair is one step (the kernel makes and deletes
// both ends at once). Pure and deterministic: the same diff gives the same plan.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "planner/diff.h"

namespace topo {

struct Step {
  Action action;  // create, modify or remove; never replace
  std::string netns;
  Subject subject;
  /// A veth pair is made or deleted in one request: the other end, in subject's peer_netns.
  std::optional<LinkDelta> peer;
  bool half_of_replace = false;
  /// Removing a namespace deletes what is in it, and the links elsewhere that die with those
  /// (veth peers, macvlans on them): they are this step's contents, in removal order. The
  /// kernel deletes them all at once (fast: one batch, not a request per link); the
  /// inverse makes the namespace and then each of them again, in reverse.
  std::vector<Step> contents;

  /// The step that undoes this one: before and after swapped, create <-> remove, contents
  /// undone in reverse.
  Step inverse() const;

  /// For a LinkBatchDelta step (or its inverse): the namespaces at the far ends of its
  /// links, which are removed right after it. Empty for any other step.
  std::vector<std::string> far_namespaces() const;
};

struct Plan {
  std::vector<Step> steps;
  std::vector<Conflict> conflicts;
  std::vector<Conflict> notes;  // Diff::notes
  Diff diff;                    // what the steps carry out, as the user reads it (replace kept whole)

  int to_add = 0, to_change = 0, to_destroy = 0;  // a replace counts as one add and one destroy
  bool empty() const { return steps.empty() && conflicts.empty(); }
};

Plan make_plan(Diff diff);

}  // namespace topo
