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

}  // namespace topo::test
