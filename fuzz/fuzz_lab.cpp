// libFuzzer target: any bytes as a lab file, through everything topo does with one short of
// the kernel. The file is parsed and validated and its errors rendered; a lab that
// validates is described, drawn, turned into probes, and planned three ways against the
// fixture kernels of the planner's tests (tests/states.h): from nothing (apply on a fresh
// machine), from the lab applied (nothing to do), and back to nothing (destroy), each plan
// rendered as text, JSON and shell with every step's inverse.
//
// Crashes, sanitizer reports and broken invariants (below) are findings; refusing the
// input is not. scripts/fuzz.sh builds and runs it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "fuzz/invariant.h"
#include "lower/machines.h"
#include "parser/describe.h"
#include "parser/graph.h"
#include "parser/load.h"
#include "planner/diff.h"
#include "planner/expected.h"
#include "planner/plan.h"
#include "planner/probe.h"
#include "planner/render_json.h"
#include "planner/render_shell.h"
#include "planner/render_show.h"
#include "planner/render_text.h"
#include "tests/states.h"

using namespace topo;

namespace {

// Renders a plan every way topo prints one; the text is thrown away, the work is the test.
void render_all(const Plan& p, const State& expected, const std::string& lab) {
  size_t n = plan_text(p).size() + plan_json(p, lab).size() + plan_shell(p, expected, lab).size();
  for (const Step& s : p.steps) n += describe(s).size() + describe(s.inverse()).size();
  require(n > 0, "a plan renders as something", "");
}

void plan_everything(const Lab& lab) {
  const std::string& name = lab.name.value;
  State expected = expected_state(lab);

  render_all(make_plan(diff(expected, test::empty_kernel(), name)), expected, name);

  // The kernel exactly as the file wants it: there must be nothing to do, or apply would
  // never converge. (Conflicts may remain: a parent or underlay the lab names in host is
  // the machine's own, which the expected state does not hold.)
  // What the file leaves out is at the kernel's default there (an mtu), as the differ
  // takes it: the expected state with those filled in, not as it is (mtu 0 is no kernel's).
  State exact = expected;
  std::map<std::pair<std::string, std::string>, int64_t> mtus = default_mtus(expected);
  for (auto& [ns, n] : exact.namespaces)
    for (LinkState& l : n.links)
      if (auto m = mtus.find({ns, l.name}); !l.mtu && m != mtus.end()) l.mtu = m->second;
  Plan again = make_plan(diff(expected, exact, name));
  require(again.steps.empty(), "a lab applied exactly needs no step", plan_text(again));

  State applied = test::applied(expected);
  render_all(make_plan(diff(expected, applied, name)), expected, name);
  render_all(make_plan(diff(destroyed_state(), applied, name)), destroyed_state(), name);

  State view = lab_view(applied, name, {});
  require(!show_text(view, name).empty() && !show_json(view, name).empty(), "show renders", "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  LoadedLab loaded = load_lab_text("fuzz.toml", std::string(reinterpret_cast<const char*>(data), size));
  std::string report = loaded.report();
  require(loaded.ok() == report.empty(), "a refused lab says why, an accepted one says nothing", report);
  if (!loaded.ok()) return 0;

  const Lab& lab = *loaded.lab;
  size_t n = describe(lab).size() + graph_dot(lab).size() + graph_mermaid(lab).size();
  for (const Probe& p : probes_of(lab)) n += p.describe().size();
  require(n > 0, "a lab describes as something", "");
  // Over several machines each machine plans its own slice, a lab of one machine.
  if (lab.machines.empty()) plan_everything(lab);
  for (const Machine& m : lab.machines) plan_everything(slice(lab, m.name.value));
  return 0;
}
