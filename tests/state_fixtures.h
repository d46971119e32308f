// Observed kernel states built by hand, for the differ's and the planner's tests.
#pragma once

#include <catch2/catch.hpp>

#include "planner/state.h"
#include "tests/states.h"

namespace topo::test {

inline LinkState& link(State& s, const std::string& ns, const std::string& name) {
  for (LinkState& l : s.namespaces.at(ns).links)
    if (l.name == name) return l;
  FAIL("no link " << ns << "/" << name);
  throw;
}

/// A link named `name` of kind `kind` put in namespace `ns` of the observed state `s`, as the
/// kernel holds it (no topo mark: the machine's, or someone else's), and returned to fill in
/// further (until the next link is put there).
inline LinkState& added_link(State& s, const std::string& ns, const std::string& name, LinkKindState kind = {}) {
  LinkState& l = s.namespaces[ns].links.emplace_back();
  l.name = name;
  l.kind = std::move(kind);
  return l;
}

}  // namespace topo::test
