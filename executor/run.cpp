#include "executor/run.h"

#include <fmt/format.h>

#include "executor/open_kernel.h"
#include "executor/read_state.h"
#include "planner/expected.h"
#include "planner/render_show.h"

namespace topo {
namespace {

// The caller's observer, with the test builds' two hooks at their moments.
class WithHooks : public ApplyObserver {
 public:
  explicit WithHooks(ApplyObserver& inner) : inner_(inner) {}
  void waiting_for_lab() override { inner_.waiting_for_lab(); }
  void waiting_for_host() override { inner_.waiting_for_host(); }
  void recovering() override { inner_.recovering(); }
  void planned(const Plan& p) override {
    after_plan_hook();
    inner_.planned(p);
  }
  bool should_stop() override { return inner_.should_stop(); }
  void step(size_t i, const Step& s) override { inner_.step(i, s); }
  void note(const std::string& text) override { inner_.note(text); }
  void after_last_step() override {
    after_last_step_hook();
    inner_.after_last_step();
  }

 private:
  ApplyObserver& inner_;
};

}  // namespace

ApplyResult apply_to_kernel(State expected, const ApplyRequest& request, ApplyObserver& observer) {
  KernelReader reader(request.lab);
  WithHooks hooked(observer);
  return apply(
      std::move(expected), request, reader, [&](const State& e) { return open_lab_kernel(e, request.lab); }, hooked);
}

Plan plan_kernel(State& expected, const std::string& lab) {
  KernelReader reader(lab);
  return plan_only(expected, lab, reader);
}

State lab_now(const State& expected, const std::string& lab) {
  return lab_view(read_state(expected, lab), lab, recorded_routes(lab));
}

std::string not_applied(const Lab& lab) {
  State expected = expected_state(lab);
  State now = read_state(expected, lab.name.value);
  std::string mark = ownership_mark(lab.name.value);
  for (const Netns& n : lab.netns) {
    const NamespaceState* ns = now.find(n.name.value);
    if (!ns || !ns->exists) return fmt::format("namespace '{}' does not exist", n.name.value);
    if (!n.adopted() && ns->mark != mark)
      return fmt::format("namespace '{}' is not the lab's (no {} mark on its lo)", n.name.value, mark);
  }
  for (const Interface& i : lab.interfaces) {
    const NamespaceState* ns = now.find(i.netns.value);
    const LinkState* l = ns ? ns->find_link(i.name.value) : nullptr;
    if (!l || l->alias != mark)
      return fmt::format("interface '{}' of namespace '{}' is missing", i.name.value, i.netns.value);
  }
  return "";
}

}  // namespace topo
