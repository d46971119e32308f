// What the planner's tests share: a lab's expected state planned against an observed one, as
// `topo plan` plans lab "web", and a plan's steps as text, to compare whole.
#pragma once

#include <string>

#include "planner/diff.h"
#include "planner/expected.h"
#include "planner/plan.h"
#include "planner/render_text.h"
#include "tests/lab_text.h"
#include "tests/state_fixtures.h"

namespace topo::test {

/// The plan that takes the kernel from `observed` to `expected`, for lab "web".
inline Plan plan_for(const State& expected, const State& observed) {
  return make_plan(diff(expected, observed, "web"));
}

/// The plan's steps, one description a line, in order.
inline std::string steps_text(const Plan& p) {
  std::string out;
  for (const Step& s : p.steps) out += describe(s) + "\n";
  return out;
}

/// The inverses of the plan's steps, last step first: what a rollback of all of it runs.
inline std::string inverses_text(const Plan& p) {
  std::string out;
  for (auto s = p.steps.rbegin(); s != p.steps.rend(); ++s) out += describe(s->inverse()) + "\n";
  return out;
}

}  // namespace topo::test
