// apply and destroy without root: the transaction (executor/apply.h) over a fake kernel that
// is a State value. Steps change the value as the kernel would change itself; faults are
// injected by step number; a kill is an exception that leaves the journal behind. The lab's
// directory is a temporary one. What is checked: the kernel ends in the file's state and
// the next plan is empty; a failure at any step rolls back to exactly the state before; a
// kill at any step is recovered by the next apply; a failed undo says what is left; the check
// after the last step catches what a step claimed to do and did not.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <utility>

#include "executor/apply.h"
#include "executor/kernel_error.h"
#include "planner/expected.h"
#include "planner/render_text.h"
#include "tests/files.h"
#include "tests/lab_text.h"
#include "tests/labs.h"

using namespace topo::test;

namespace {

using LinkKey = std::pair<std::string, std::string>;

// Red and blue on host bridge br0 (red's link: tests/labs.h), a route, NAT.
const std::string kLab = std::string(R"(lab = "web"
[host]
sysctl = { "net.ipv4.ip_forward" = 1 }
[[netns]]
name = "red"
sysctl = { "net.ipv4.ip_forward" = 1 }
[[netns]]
name = "blue"
)") + kRedOnBridge + R"([[veth]]
a = { netns = "blue", name = "eth0", addresses = ["10.0.0.3/24"] }
b = { name = "blue-p", master = "br0" }
[[route]]
netns = "red"
to = "10.9.0.0/16"
via = "10.0.0.1"
[[nat]]
kind = "masquerade"
source = "10.0.0.0/24"
)";

// What kill_at throws: topo dies there, its journal left as it was.
struct Killed {};

// A kernel that is a State: each step replaces its `before` with its `after`. As the kernel,
// it refuses a link whose namespace, master or parent is missing, and deleting a link or a
// namespace takes along what dies with it (a veth's other end, a macvlan on it).
class FakeKernel : public LabKernel {
 public:
  State state;
  std::set<long> fail;     // the n-th steps run (undo steps counted too) fail, changing nothing
  long kill_at = 0;        // the n-th step leaves what it makes unmarked, and topo dies
  long drop_route_at = 0;  // the n-th step says it made its route, and did not
  long runs = 0;
  std::vector<std::string> log;

  FakeKernel() {
    state.namespaces["host"].exists = true;
    state.namespaces["host"].sysctls["net.ipv4.ip_forward"] = "0";
  }

  void run(const Step& s) override {
    ++runs;
    if (fail.count(runs)) throw KernelError("running", describe(s), "injected", EPERM);
    log.push_back(describe(s));
    if (runs == drop_route_at && std::holds_alternative<RouteDelta>(s.subject)) return;
    carry(s);
    if (runs == kill_at) {
      unmark(s);
      throw Killed{};
    }
  }
  void settle_deletions() override {}
  bool claim(const std::string& netns, const std::string& link) override {
    auto n = state.namespaces.find(netns);
    if (n == state.namespaces.end()) return false;
    std::string mark = ownership_mark("web");
    if (link == "lo") return n->second.mark.empty() && !(n->second.mark = mark).empty();
    for (LinkState& l : n->second.links)
      if (l.name == link && l.alias.empty()) return !(l.alias = mark).empty();
    return false;
  }
  std::map<std::string, std::string> overwritten_by(const Step&) override { return {}; }
  std::optional<std::string> read_sysctl(const std::string& netns, const std::string& key) override {
    auto n = state.namespaces.find(netns);
    if (n == state.namespaces.end()) return std::nullopt;
    auto v = n->second.sysctls.find(key);
    if (v == n->second.sysctls.end()) return std::string("0");  // the kernel's default
    return v->second;
  }
  void put_back_from(const SysctlOriginals*, const SysctlOriginals*) override {}

 private:
  NamespaceState& ns(const std::string& name) { return state.namespaces[name]; }

  static void erase_link(NamespaceState& n, const std::string& name) {
    std::erase_if(n.links, [&](const LinkState& l) { return l.name == name; });
    std::erase_if(n.routes, [&](const RouteState& r) { return r.dev == name; });
  }
  [[noreturn]] static void refuse(const std::string& netns, const std::string& name, const char* why) {
    throw KernelError("running", netns + "/" + name, why, ENODEV);
  }
  bool has(const std::string& netns, const std::string& name) const {
    auto n = state.namespaces.find(netns);
    return n != state.namespaces.end() && n->second.find_link(name);
  }
  // What the kernel takes along with a link: a veth's other end, the macvlans on it and the
  // VXLANs over it, and theirs in turn.
  void kill(const std::string& netns, const std::string& name) {
    auto n = state.namespaces.find(netns);
    if (n == state.namespaces.end() || !n->second.find_link(name)) return;
    LinkState gone = *n->second.find_link(name);
    erase_link(n->second, name);
    if (const VethState* v = gone.veth()) kill(v->peer_netns, v->peer_name);
    std::vector<LinkKey> dependents;
    for (const auto& [other, m] : state.namespaces)
      for (const LinkState& d : m.links)
        if (d.underlay(other) == LinkKey{netns, name}) dependents.emplace_back(other, d.name);
    for (const auto& [other, d] : dependents) kill(other, d);
  }
  // The kernel makes a link only where its namespace, master, underlay and parent are.
  void check_needs(const std::string& netns, const LinkState& l) const {
    auto n = state.namespaces.find(netns);
    if (n == state.namespaces.end() || !n->second.exists) refuse(netns, l.name, "no such namespace");
    if (!l.master.empty() && !has(netns, l.master)) refuse(netns, l.master, "no such master");
    if (auto under = l.underlay(netns); under && !has(under->first, under->second))
      refuse(under->first, under->second, "no such underlay or parent");
  }
  void add_link(const std::string& netns, LinkState l, const LinkState* had) {
    if (!l.mtu) l.mtu = had ? had->mtu : 1500;
    if (!l.mac) l.mac = had ? had->mac : MacAddress{{0x02, 0, 0, 0, 0, static_cast<uint8_t>(++macs_)}};
    erase_link(ns(netns), l.name);
    ns(netns).links.push_back(std::move(l));
  }
  void link(const std::string& netns, const LinkDelta& d) {
    std::optional<LinkState> had;
    if (d.before) {
      if (!has(netns, d.before->name)) refuse(netns, d.before->name, "No such device");
      had = *ns(netns).find_link(d.before->name);
      // A link made again loses its routes; one changed in place keeps them.
      if (d.after && d.after->name == d.before->name) {
        auto& links = ns(netns).links;
        std::erase_if(links, [&](const LinkState& l) { return l.name == d.before->name; });
      } else {
        kill(netns, d.before->name);
      }
    }
    if (d.after) add_link(netns, *d.after, had && d.before && d.after->name == d.before->name ? &*had : nullptr);
  }
  void carry(const Step& s) {
    std::visit([&](const auto& d) { carry(s, d); }, s.subject);
  }
  void carry(const Step& s, const NamespaceDelta& d) {
    if (d.before && !d.after) {
      for (const LinkState& l : std::vector<LinkState>(ns(s.netns).links)) kill(s.netns, l.name);
      state.namespaces.erase(s.netns);
      return;
    }
    NamespaceState& n = ns(s.netns);
    n.exists = true;
    n.mark = d.after->mark;
    for (const auto& [k, v] : d.after->sysctls) n.sysctls[k] = v;
    for (const Step& c : s.contents) run(c);
  }
  void carry(const Step& s, const LinkDelta& d) {
    const LinkState& l = d.after ? *d.after : *d.before;
    if (s.peer && !d.after) {  // one request deletes the pair
      link(s.netns, d);
      return;
    }
    if (d.after && !d.before) check_needs(s.netns, l);
    link(s.netns, d);
    if (s.peer) {
      const std::string& there = l.veth()->peer_netns;
      if (s.peer->after && !s.peer->before) check_needs(there, *s.peer->after);
      link(there, *s.peer);
    }
  }
  void carry(const Step& s, const RouteDelta& d) {
    auto& routes = ns(s.netns).routes;
    if (d.before) std::erase(routes, *d.before);
    if (d.after) routes.push_back(*d.after);
  }
  void carry(const Step& s, const SysctlDelta& d) {
    if (d.after) ns(s.netns).sysctls[d.key] = *d.after;
  }
  void carry(const Step& s, const FileDelta& d) {
    if (d.after)
      ns(s.netns).files[d.file] = *d.after;
    else
      ns(s.netns).files.erase(d.file);
  }
  void carry(const Step& s, const LinkBatchDelta& d) {
    if (d.before)
      for (const std::string& name : *d.before) kill(s.netns, name);
    if (d.after)
      for (const Step& c : s.contents) run(c);
  }
  void carry(const Step& s, const LinkUpDelta& d) {
    for (LinkState& l : ns(s.netns).links) {
      if (d.after && std::count(d.after->begin(), d.after->end(), l.name)) l.up = true;
      if (d.before && std::count(d.before->begin(), d.before->end(), l.name)) l.up = false;
    }
  }
  void carry(const Step& s, const TableDelta& d) { ns(s.netns).nat = d.after; }

  // What a step killed halfway leaves: made, not yet marked.
  void unmark(const Step& s) {
    if (const auto* d = std::get_if<NamespaceDelta>(&s.subject); d && d->after) ns(s.netns).mark.clear();
    if (const auto* d = std::get_if<LinkDelta>(&s.subject); d && d->after)
      for (LinkState& l : ns(s.netns).links)
        if (l.name == d->after->name) l.alias.clear();
  }

  int macs_ = 0;
};

// Links by name, routes by destination: the order of a link or route made again by a
// rollback is not state.
State normal(State s) {
  for (auto& [name, n] : s.namespaces) {
    std::sort(n.links.begin(), n.links.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::sort(n.routes.begin(), n.routes.end(), [](const auto& a, const auto& b) {
      return std::tie(a.to, a.metric, a.dev) < std::tie(b.to, b.metric, b.dev);
    });
  }
  return s;
}

// Reads the fake as read_state reads the kernel: host, the namespaces the file names (absent
// ones as not existing), those marked as the lab's; sysctls only for the keys asked about.
class FakeReader : public StateReader {
 public:
  explicit FakeReader(const FakeKernel& k) : k_(k) {}
  State read(const State& expected, const SysctlOriginals& also) override {
    ++reads;
    State out;
    for (const auto& [name, n] : k_.state.namespaces)
      if (name == "host" || expected.find(name) || n.mark == ownership_mark("web")) out.namespaces[name] = n;
    for (const auto& [name, n] : expected.namespaces)
      if (!out.find(name)) out.namespaces[name].exists = false;
    out = normal(std::move(out));  // as the reader orders them
    for (auto& [name, n] : out.namespaces) {
      const NamespaceState* want = expected.find(name);
      std::erase_if(n.sysctls, [&](const auto& kv) {
        return !(want && want->sysctls.count(kv.first)) && !also.count({name, kv.first});
      });
      if (want)  // a key the kernel has a default for reads as that default
        for (const auto& [key, value] : want->sysctls)
          if (n.exists && !n.sysctls.count(key)) n.sysctls[key] = "0";
    }
    return out;
  }
  int reads = 0;

 private:
  const FakeKernel& k_;
};

class Recorder : public ApplyObserver {
 public:
  bool recovered = false;
  void recovering() override { recovered = true; }
};

struct Bench {
  TempDir dir;
  FakeKernel kernel;
  FakeReader reader{kernel};
  Recorder observer;

  ApplyResult run(const State& expected) {
    ApplyRequest request{"web", false, dir.path().string()};
    return apply(
        expected, request, reader,
        [&](const State&) {
          // The transaction owns what it is given: a forwarder to the one fake.
          struct Forward : LabKernel {
            FakeKernel& k;
            explicit Forward(FakeKernel& fake) : k(fake) {}
            void run(const Step& s) override { k.run(s); }
            void settle_deletions() override {}
            bool claim(const std::string& n, const std::string& l) override { return k.claim(n, l); }
            std::map<std::string, std::string> overwritten_by(const Step& s) override { return k.overwritten_by(s); }
            std::optional<std::string> read_sysctl(const std::string& n, const std::string& key) override {
              return k.read_sysctl(n, key);
            }
            void put_back_from(const SysctlOriginals*, const SysctlOriginals*) override {}
          };
          return std::make_unique<Forward>(kernel);
        },
        observer);
  }
};

const State& file() {
  static const State s = expected_state(lab(kLab));
  return s;
}

}  // namespace

TEST_CASE("apply: a lab applied, applied again, destroyed: the kernel as before", "[apply]") {
  Bench b;
  State before = b.kernel.state;
  ApplyResult first = b.run(file());
  INFO(plan_text(first.plan));
  CHECK(first.end == ApplyResult::End::done);
  CHECK(first.plan.steps.size() == 10);
  CHECK(b.run(file()).end == ApplyResult::End::no_changes);
  ApplyResult gone = b.run(destroyed_state());
  INFO(plan_text(gone.plan));
  CHECK(gone.end == ApplyResult::End::done);
  CHECK(normal(b.kernel.state) == normal(before));
  CHECK(b.run(destroyed_state()).end == ApplyResult::End::no_changes);
}

TEST_CASE("apply: a failure at any step of an apply or a destroy rolls back to exactly the kernel before", "[apply]") {
  for (const bool destroying : {false, true}) {
    for (long k = 1;; ++k) {
      Bench b;
      if (destroying) REQUIRE(b.run(file()).end == ApplyResult::End::done);
      State before = b.kernel.state;
      b.kernel.runs = 0;
      b.kernel.fail = {k};
      ApplyResult r = b.run(destroying ? destroyed_state() : file());
      if (r.end == ApplyResult::End::done) break;  // every step has failed once
      INFO((destroying ? "destroy" : "apply") << ", step " << k << " fails");
      INFO(r.left_behind);
      CHECK(r.end == ApplyResult::End::rolled_back);
      CHECK(r.exactly_as_it_was);
      CHECK(normal(b.kernel.state) == normal(before));
      // The lab's records are as before too: the next run plans what the first one did.
      b.kernel.fail.clear();
      CHECK(b.run(destroying ? destroyed_state() : file()).end == ApplyResult::End::done);
    }
  }
}

TEST_CASE("apply: topo killed at any step: the next apply claims what it made and converges", "[apply]") {
  const std::vector<Step> steps = Bench().run(file()).plan.steps;
  REQUIRE(steps.size() == 10);
  for (long k = 1; k <= 10; ++k) {
    Bench b;
    State before = b.kernel.state;
    b.kernel.kill_at = k;
    CHECK_THROWS_AS(b.run(file()), Killed);
    b.kernel.kill_at = 0;
    const Step& killed = steps[static_cast<size_t>(k - 1)];
    INFO("killed at step " << k << ": " << describe(killed));
    ApplyResult again = b.run(file());
    INFO(plan_text(again.plan));
    // The journal names what any step so far may have left unmarked (the first two steps
    // make the namespaces): it is claimed, not a conflict.
    CHECK(b.observer.recovered);
    CHECK((again.end == ApplyResult::End::done || again.end == ApplyResult::End::no_changes));
    CHECK(b.run(file()).end == ApplyResult::End::no_changes);
    CHECK(b.run(destroyed_state()).end == ApplyResult::End::done);
    CHECK(normal(b.kernel.state) == normal(before));
  }
}

TEST_CASE("apply: an undo that fails too is reported with what it left behind", "[apply]") {
  Bench b;
  // Step 4 fails; the first undo (run 5, the inverse of step 3: ip_forward on) fails too.
  b.kernel.fail = {4, 5};
  ApplyResult r = b.run(file());
  INFO(plan_text(r.plan));
  REQUIRE(r.outcome.undo_failures.size() == 1);
  CHECK(r.outcome.undo_failures[0].index == 2);
  CHECK(r.end == ApplyResult::End::rollback_incomplete);
  CHECK(r.left_behind == "  namespace host:\n    sysctl net.ipv4.ip_forward was 0, is 1\n");
}

TEST_CASE("apply: a route a step claimed and the kernel does not hold fails the check, and all is undone", "[apply]") {
  Bench b;
  State before = b.kernel.state;
  Plan plan = b.run(file()).plan;  // to learn which step makes the route
  b.run(destroyed_state());
  long route_step = 0;
  for (size_t i = 0; i < plan.steps.size(); ++i)
    if (std::holds_alternative<RouteDelta>(plan.steps[i].subject)) route_step = static_cast<long>(i) + 1;
  REQUIRE(route_step > 0);
  b.kernel.runs = 0;
  b.kernel.drop_route_at = route_step;
  ApplyResult r = b.run(file());
  REQUIRE(r.outcome.failure);
  CHECK(r.outcome.unverified(r.plan.steps.size()));
  CHECK(std::string(r.outcome.failure->error.what()) ==
        "checking the kernel after the last step: it is not in the file's state; still to do:\n"
        "    red: + route 10.9.0.0/16 via 10.0.0.1");
  CHECK(r.end == ApplyResult::End::rolled_back);
  CHECK(normal(b.kernel.state) == normal(before));
}

TEST_CASE("apply: after a kill, plan shows what the next apply does, not conflicts over what it will claim",
          "[apply]") {
  for (long k = 1; k <= 10; ++k) {
    Bench b;
    b.kernel.kill_at = k;
    CHECK_THROWS_AS(b.run(file()), Killed);
    b.kernel.kill_at = 0;
    INFO("killed at step " << k);
    State expected = file();
    Plan shown = plan_only(expected, "web", b.reader, b.dir.path().string());
    CHECK(shown.conflicts.empty());
    ApplyResult again = b.run(file());
    CHECK(plan_text(shown) == plan_text(again.plan));
  }
}

TEST_CASE("apply: destroying namespaces joined by veths, with macvlans on their ends, rolls back from any step",
          "[apply]") {
  // A macvlan dies with its parent, and a veth end with its other end's namespace: each link
  // goes with the first step that takes it along, and its undo finds its parent made again
  // (evolve seed 43, three cases: a macvlan in n35 on the host's end of n14's veth; the
  // same with a veth joining n14 and n35; and a macvlan in n14 on that veth's end too).
  const std::string macvlan_on_c0 = R"(lab = "web"
[[netns]]
name = "n14"
[[netns]]
name = "n35"
[[veth]]
a = { name = "c0" }
b = { name = "eth2", netns = "n14" }
[[macvlan]]
name = "mv54"
netns = "n35"
parent = "c0"
)";
  const std::string joined = edited(
      macvlan_on_c0, "[[veth]]\n",
      "[[veth]]\na = { name = \"eth0\", netns = \"n14\" }\nb = { name = \"he15\", netns = \"n35\" }\n[[veth]]\n");
  const std::string shapes[] = {
      macvlan_on_c0, joined,
      joined + "[[macvlan]]\nname = \"mv57\"\nnetns = \"n14\"\nparent = \"eth0\"\nparent_netns = \"n14\"\n"};
  for (const std::string& toml : shapes) {
    const State wanted = expected_state(lab(toml));
    for (long k = 1;; ++k) {
      Bench b;
      ApplyResult made = b.run(wanted);
      INFO(plan_text(made.plan));
      REQUIRE(made.end == ApplyResult::End::done);
      State before = b.kernel.state;
      b.kernel.runs = 0;
      b.kernel.fail = {k};
      ApplyResult r = b.run(destroyed_state());
      INFO(toml << "destroy, step " << k << " fails; the plan:\n" << plan_text(r.plan));
      INFO(r.left_behind);
      if (r.end == ApplyResult::End::done) break;  // every step has failed once
      CHECK(r.end == ApplyResult::End::rolled_back);
      CHECK(normal(b.kernel.state) == normal(before));
      b.kernel.fail.clear();
      CHECK(b.run(destroyed_state()).end == ApplyResult::End::done);
      CHECK(b.kernel.state.namespaces.at("host").links.empty());
    }
  }
}
