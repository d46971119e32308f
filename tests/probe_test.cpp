// topo test's runner without the kernel: [[expect]] entries in, a fake prober's answers,
// the exact table and failure lines out.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "planner/probe.h"
#include "tests/lab_text.h"

using namespace topo::test;

namespace {

const char* kRouterLab = R"(lab = "router"
[[netns]]
name = "router"
[[netns]]
name = "left"
[[netns]]
name = "right"
[[veth]]
a = { netns = "left", name = "eth0", addresses = ["10.1.0.2/24"] }
b = { netns = "router", name = "to-left", addresses = ["10.1.0.1/24"] }
[[veth]]
a = { netns = "right", name = "eth0", addresses = ["10.2.0.2/24", "fd00:2::2/64"] }
b = { netns = "router", name = "to-right", addresses = ["10.2.0.1/24"] }

[[expect]]
from = "left"
to = "right"
reach = true

[[expect]]
from = "host"
to = "10.1.0.2"
reach = false
timeout = 0.5

[[expect]]
from = "left"
to = "10.2.0.2"
proto = "tcp"
port = 80
reach = true
)";

// Answers from a table keyed by "FROM -> ADDRESS PROTO"; records what it was asked.
class FakeProber : public Prober {
 public:
  explicit FakeProber(std::map<std::string, ProbeResult> answers) : answers_(std::move(answers)) {}
  ProbeResult probe(const Probe& p) override {
    std::string key = p.from + " -> " + to_string(p.to) + " " + std::string(to_string(p.proto));
    std::lock_guard<std::mutex> hold(lock_);
    asked_.insert(key + " from " + (p.from_path.empty() ? "(host)" : p.from_path) +
                  (p.port ? " port " + std::to_string(p.port) : "") + " timeout " + std::to_string(p.timeout));
    auto it = answers_.find(key);
    if (it == answers_.end()) throw std::runtime_error("no answer for " + key);
    return it->second;
  }
  std::set<std::string> asked_;

 private:
  std::map<std::string, ProbeResult> answers_;
  std::mutex lock_;
};

}  // namespace

TEST_CASE("probes: each [[expect]] resolved to its namespace file and address", "[expect]") {
  Lab l = lab(kRouterLab);
  FakeProber fake({{"left -> 10.2.0.2 icmp", {true, "reply", 0.001}},
                   {"host -> 10.1.0.2 icmp", {false, "no reply", 0.5}},
                   {"left -> 10.2.0.2 tcp", {true, "connected", 0.002}}});
  std::vector<Probe> probes = probes_of(l);
  run_probes(probes, fake, 4);
  CHECK(fake.asked_ == std::set<std::string>{
                           "left -> 10.2.0.2 icmp from /run/netns/left timeout 3.000000",
                           "host -> 10.1.0.2 icmp from (host) timeout 0.500000",
                           "left -> 10.2.0.2 tcp from /run/netns/left port 80 timeout 3.000000",
                       });
  CHECK(probes[0].describe() == "left -> 10.2.0.2 (right) icmp");
  CHECK(probes[2].describe() == "left -> 10.2.0.2 tcp/80");
}

TEST_CASE("test table: every expectation holding", "[expect]") {
  Lab l = lab(kRouterLab);
  FakeProber fake({{"left -> 10.2.0.2 icmp", {true, "reply", 0.001}},
                   {"host -> 10.1.0.2 icmp", {false, "no reply", 0.5}},
                   {"left -> 10.2.0.2 tcp", {true, "connected", 0.0021}}});
  auto probes = probes_of(l);
  auto results = run_probes(probes, fake, 2);
  CHECK(results_table(probes, results) ==
        "    FROM  TO                PROTO   EXPECT    GOT        TIME\n"
        "ok  left  10.2.0.2 (right)  icmp    reach     reply      1.0 ms\n"
        "ok  host  10.1.0.2          icmp    no reach  no reply   500.0 ms\n"
        "ok  left  10.2.0.2          tcp/80  reach     connected  2.1 ms\n"
        "3 expectations: 3 hold, 0 fail.\n");
  CHECK(failures("lab.toml", probes, results).empty());
  CHECK(holding(probes, results) == 3);
}

TEST_CASE("test table: a failing expectation is named with its place in the file", "[expect]") {
  Lab l = lab(kRouterLab);
  FakeProber fake({{"left -> 10.2.0.2 icmp", {false, "network unreachable", 0}},
                   {"host -> 10.1.0.2 icmp", {true, "reply", 0.5}}});  // tcp: the fake throws
  auto probes = probes_of(l);
  auto results = run_probes(probes, fake, 8);
  CHECK(results_table(probes, results, false) ==
        "      FROM  TO                PROTO   EXPECT    GOT                                        TIME\n"
        "FAIL  left  10.2.0.2 (right)  icmp    reach     network unreachable                        -\n"
        "FAIL  host  10.1.0.2          icmp    no reach  reply                                      -\n"
        "FAIL  left  10.2.0.2          tcp/80  reach     error: no answer for left -> 10.2.0.2 tcp  -\n"
        "3 expectations: 0 hold, 3 fail.\n");
  CHECK(failures("lab.toml", probes, results) ==
        "lab.toml:15:1: expectation failed: left -> 10.2.0.2 (right) icmp: expected to reach, got network "
        "unreachable\n"
        "lab.toml:20:1: expectation failed: host -> 10.1.0.2 icmp: expected not to reach, got reply\n"
        "lab.toml:26:1: expectation failed: left -> 10.2.0.2 tcp/80: expected to reach, got error: no answer for "
        "left -> 10.2.0.2 tcp\n");
}

TEST_CASE("probes run in parallel, up to the jobs asked", "[expect]") {
  // Each probe waits until four are in flight at once: with four jobs all finish; the
  // results keep the probes' order whatever order they finish in.
  std::string toml = "lab = \"p\"\n";
  for (int i = 1; i <= 8; ++i)
    toml += fmt::format("[[expect]]\nfrom = \"host\"\nto = \"10.0.0.{}\"\nreach = true\n", i);
  Lab l = lab(toml);
  struct Gate : Prober {
    std::atomic<int> in_flight{0}, most{0};
    ProbeResult probe(const Probe& p) override {
      int now = ++in_flight;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      while (most.load() < 4) std::this_thread::yield();
      --in_flight;
      return {true, to_string(p.to), 0};
    }
  } gate;
  auto probes = probes_of(l);
  auto results = run_probes(probes, gate, 4);
  CHECK(gate.most.load() == 4);
  for (int i = 0; i < 8; ++i) CHECK(results[i].detail == fmt::format("10.0.0.{}", i + 1));
}

TEST_CASE("[[expect]]: the keys and their defaults", "[expect]") {
  Lab l = lab(R"(lab = "t"
[[netns]]
name = "a"
[[bridge]]
name = "br0"
addresses = ["fd00::1/64", "10.0.0.1/24"]
[[expect]]
from = "a"
to = "host"
reach = false
[[expect]]
from = "host"
to = "fd00::1"
proto = "udp"
port = 53
timeout = 1
reach = true
)");
  REQUIRE(l.expects.size() == 2);
  const Expect& e = l.expects[0];
  CHECK(e.from.value == "a");
  CHECK_FALSE(e.to_address);
  CHECK(e.proto.value == ProbeProto::icmp);
  CHECK(e.timeout.value == kDefaultProbeTimeout);
  CHECK_FALSE(e.reach.value);
  auto probes = probes_of(l);
  CHECK(probes[0].describe() == "a -> fd00::1 (host) icmp");  // the first address the file gives
  CHECK(probes[1].describe() == "host -> fd00::1 udp/53");
  CHECK(probes[1].timeout == 1.0);
}
