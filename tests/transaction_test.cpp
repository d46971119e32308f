// The transaction over a fake kernel: steps in order; on a failure or a signal, the
// inverses of the steps done, last first; failed inverses are reported, the rest still run.
#include <catch2/catch.hpp>

#include "executor/transaction.h"
#include "planner/render_text.h"

using namespace topo;

namespace {

// Records what it is asked to do; fails the steps whose description is in `refuse`.
class RecordingKernel : public Kernel {
 public:
  std::vector<std::string> refuse;
  std::vector<std::string> log;

  void run(const Step& step) override {
    std::string text = describe(step);
    if (std::find(refuse.begin(), refuse.end(), text) != refuse.end())
      throw KernelError("running", text, "Operation not permitted", 1);
    log.push_back(text);
  }
};

Step namespace_step(const std::string& name) {
  NamespaceState made;
  made.exists = true;
  return Step{Action::create, name, NamespaceDelta{{std::nullopt, made}}, {}, false, {}};
}

Step sysctl_step(const std::string& ns, const std::string& from, const std::string& to) {
  return Step{Action::modify, ns, SysctlDelta{{from, to}, "net.ipv4.ip_forward"}, {}, false, {}};
}

const std::vector<Step> kSteps = {namespace_step("a"), sysctl_step("host", "0", "1"), namespace_step("b")};

}  // namespace

TEST_CASE("transaction: all steps run in order when none fails", "[transaction]") {
  RecordingKernel k;
  Outcome o = run_transaction(kSteps, k);
  CHECK(o.ok());
  CHECK(o.done == 3);
  CHECK(k.log ==
        std::vector<std::string>{"a: + netns a", "host: ~ sysctl net.ipv4.ip_forward: 0 -> 1", "b: + netns b"});
}

TEST_CASE("transaction: a failed step undoes the ones before it, last first", "[transaction]") {
  RecordingKernel k;
  k.refuse = {"b: + netns b"};
  Outcome o = run_transaction(kSteps, k);
  CHECK_FALSE(o.ok());
  CHECK(o.rolled_back());
  REQUIRE(o.failure);
  CHECK(o.failure->index == 2);
  CHECK(std::string(o.failure->error.what()) == "running b: + netns b: Operation not permitted");
  CHECK(k.log == std::vector<std::string>{"a: + netns a", "host: ~ sysctl net.ipv4.ip_forward: 0 -> 1",
                                          "host: ~ sysctl net.ipv4.ip_forward: 1 -> 0", "a: - netns a"});
}

TEST_CASE("transaction: an undo that fails is reported and the others still run", "[transaction]") {
  RecordingKernel k;
  k.refuse = {"b: + netns b", "host: ~ sysctl net.ipv4.ip_forward: 1 -> 0"};
  Outcome o = run_transaction(kSteps, k);
  CHECK_FALSE(o.rolled_back());
  REQUIRE(o.undo_failures.size() == 1);
  CHECK(o.undo_failures[0].index == 1);
  CHECK(k.log.back() == "a: - netns a");
}

TEST_CASE("transaction: a signal between steps stops and undoes", "[transaction]") {
  RecordingKernel k;
  int asked = 0;
  Outcome o = run_transaction(kSteps, k, [&] { return ++asked == 2; });
  CHECK(o.interrupted);
  CHECK(o.rolled_back());
  CHECK(o.done == 1);
  CHECK(k.log == std::vector<std::string>{"a: + netns a", "a: - netns a"});
}
