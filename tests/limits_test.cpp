// Machine limits ([host] limits): raised to at least their value while a lab holds them,
// left alone where the kernel already has as much, noted where the key is not (a namespace
// other than the machine's first), held by labs together, and set by a large network's
// lowering. Inline TOML in, exact text out; no kernel.
#include <catch2/catch.hpp>

#include "executor/host_sysctls.h"
#include "parser/lab_toml.h"
#include "planner/render_json.h"
#include "tests/plans.h"

using namespace topo::test;

namespace {

const char* kBacklog = R"(lab = "web"
[host]
limits = { "net.core.netdev_max_backlog" = 4096 }
)";

// The kernel with the limit at `value`, or without the key when `value` is "".
State kernel_with_backlog(const std::string& value) {
  State s = empty_kernel();
  if (!value.empty()) s.namespaces["host"].sysctls["net.core.netdev_max_backlog"] = value;
  return s;
}

std::string limits_of(const Lab& l) {
  std::string out;
  for (const Sysctl& s : l.host_limits) out += s.key.value + " >= " + s.value.value + "\n";
  return out;
}

}  // namespace

TEST_CASE("limits: raised when below, left alone at or above, noted where the key is not", "[limits]") {
  State want = expected_state(lab(kBacklog));
  CHECK(plan_text(plan_for(want, kernel_with_backlog("1000"))) ==
        "namespace host\n"
        "  ~ sysctl net.core.netdev_max_backlog: 1000 -> 4096\n"
        "\n"
        "Plan: 0 to add, 1 to change, 0 to destroy.\n");
  CHECK(plan_text(plan_for(want, kernel_with_backlog("4096"))) == "No changes. The kernel matches the lab.\n");
  CHECK(plan_text(plan_for(want, kernel_with_backlog("10000"))) == "No changes. The kernel matches the lab.\n");
  Plan absent = plan_for(want, kernel_with_backlog(""));
  CHECK(absent.empty());
  CHECK(plan_text(absent) ==
        "No changes. The kernel matches the lab.\n"
        "note: host: net.core.netdev_max_backlog is not in this network namespace (only in the machine's first): "
        "the lab wants it at least 4096; raise it there\n");
  CHECK(plan_json(absent, "web") ==
        R"({"format_version":1,"lab":"web","summary":{"add":0,"change":0,"destroy":0},"conflicts":[],"notes":[)"
        R"({"netns":"host","message":"net.core.netdev_max_backlog is not in this network namespace (only in the )"
        R"(machine's first): the lab wants it at least 4096; raise it there"}],"steps":[)"
        "\n]}\n");
}

TEST_CASE("limits: labs hold a limit together, and a value below another lab's limit is a conflict", "[limits][host]") {
  HostSysctls host;
  NamespaceState before = kernel_with_backlog("1000").namespaces.at("host");
  host.settle("web", expected_state(lab(kBacklog)).namespaces.at("host"), &before);
  CHECK(host.held.at("net.core.netdev_max_backlog").at("web") == ">=4096");
  CHECK(host.originals.at("net.core.netdev_max_backlog") == "1000");

  auto conflicts = [&](const std::string& toml) {
    std::string out;
    for (const Conflict& c : host.conflicts(expected_state(lab(toml)), "two")) out += c.message + "\n";
    return out;
  };
  CHECK(conflicts("lab = \"two\"\n[host]\nlimits = { \"net.core.netdev_max_backlog\" = 8192 }\n") == "");
  CHECK(conflicts("lab = \"two\"\n[host]\nsysctl = { \"net.core.netdev_max_backlog\" = 5000 }\n") == "");
  CHECK(conflicts("lab = \"two\"\n[host]\nsysctl = { \"net.core.netdev_max_backlog\" = 2000 }\n") ==
        "sysctl net.core.netdev_max_backlog is at least 4096 for lab 'web', which holds it; this lab sets 2000\n");

  // The last lab holding it lets it go: the original comes back, exactly.
  State gone = expected_state(lab("lab = \"web\"\n"));
  host.add_put_backs(gone, "web");
  CHECK(gone.namespaces.at("host").sysctls.at("net.core.netdev_max_backlog") == "1000");
  CHECK(gone.namespaces.at("host").at_least.empty());
}

TEST_CASE("limits: a network of more members than a bridge takes raises the backlog and neighbour tables",
          "[limits][lower]") {
  // 1001 members: the backlog holds a broadcast to all of them and 1000 more; the neighbour
  // tables a gateway and its members learning each other, and 1024 more. In 1024s.
  std::string big = R"(lab = "big"
[[network]]
name = "lan"
subnets = ["10.60.0.0/20", "fd00:60::/64"]
[[netns]]
name = "m"
count = 1001
networks = ["lan"]
)";
  CHECK(limits_of(lab(big)) ==
        "net.core.netdev_max_backlog >= 2048\n"
        "net.ipv4.neigh.default.gc_thresh2 >= 3072\n"
        "net.ipv4.neigh.default.gc_thresh3 >= 3072\n"
        "net.ipv6.neigh.default.gc_thresh2 >= 3072\n"
        "net.ipv6.neigh.default.gc_thresh3 >= 3072\n");
  // The file's own higher limit stays; a key it sets exactly is the file's.
  CHECK(limits_of(lab(std::string(big) + R"([host]
sysctl = { "net.ipv4.neigh.default.gc_thresh2" = 512 }
limits = { "net.core.netdev_max_backlog" = 100000 }
)")) == "net.core.netdev_max_backlog >= 100000\n"
        "net.ipv4.neigh.default.gc_thresh3 >= 3072\n"
        "net.ipv6.neigh.default.gc_thresh2 >= 3072\n"
        "net.ipv6.neigh.default.gc_thresh3 >= 3072\n");
  // A network a bridge holds raises nothing.
  CHECK(limits_of(lab(R"(lab = "small"
[[network]]
name = "lan"
subnets = ["10.60.0.0/20"]
[[netns]]
name = "m"
count = 1000
networks = ["lan"]
)")) == "");
}

TEST_CASE("limits: topo expand writes them in [host], and they load back the same", "[limits][lower]") {
  Lab l = lab(kBacklog);
  std::string text = lab_toml(l, "lab.toml");
  CHECK(text.find("[host]\nlimits = { \"net.core.netdev_max_backlog\" = 4096 }\n") != std::string::npos);
  CHECK(limits_of(lab(text)) == limits_of(l));
}
