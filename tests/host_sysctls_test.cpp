// The host's shared sysctls (executor/host_sysctls.h) without a kernel: who holds what, what
// goes back when, and what is a conflict, for labs given as inline TOML.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "executor/host_sysctls.h"
#include "planner/expected.h"
#include "tests/lab_text.h"

using namespace topo::test;

namespace {

State expected(const std::string& toml) { return expected_state(lab(toml)); }

const char* kForwards = R"(lab = "one"
[host]
sysctl = { "net.ipv4.ip_forward" = 1 }
)";

// The kernel before the first lab: ip_forward 0.
NamespaceState observed_host(const std::string& value) {
  NamespaceState host;
  host.exists = true;
  host.sysctls["net.ipv4.ip_forward"] = value;
  return host;
}

std::vector<std::string> messages(const std::vector<Conflict>& conflicts) {
  std::vector<std::string> out;
  for (const Conflict& c : conflicts) out.push_back(c.netns + ": " + c.message);
  return out;
}

}  // namespace

TEST_CASE("host sysctls: the original goes back when the last lab holding the key lets it go", "[host]") {
  HostSysctls host;
  NamespaceState before = observed_host("0");
  host.settle("one", expected(kForwards).namespaces.at("host"), &before);
  NamespaceState after = observed_host("1");
  host.settle("two",
              expected("lab = \"two\"\n[host]\nsysctl = { \"net.ipv4.ip_forward\" = 1 }\n").namespaces.at("host"),
              &after);
  CHECK(host.originals == std::map<std::string, std::string>{{"net.ipv4.ip_forward", "0"}});

  State one_gone = expected("lab = \"one\"\n");
  host.add_put_backs(one_gone, "one");
  CHECK(one_gone.namespaces.at("host").sysctls.empty());  // two still holds it
  host.settle("one", one_gone.namespaces.at("host"), &after);

  State two_gone = expected("lab = \"two\"\n");
  host.add_put_backs(two_gone, "two");
  CHECK(two_gone.namespaces.at("host").sysctls == std::map<std::string, std::string>{{"net.ipv4.ip_forward", "0"}});
  host.settle("two", expected("lab = \"two\"\n").namespaces.at("host"), &before);
  CHECK(host.held.empty());
  CHECK(host.originals.empty());
}

TEST_CASE("host sysctls: another value than a holder's and a forward drop beside a forwarding lab are conflicts",
          "[host]") {
  HostSysctls host;
  NamespaceState before = observed_host("0");
  host.settle("one", expected(kForwards).namespaces.at("host"), &before);
  CHECK(messages(host.conflicts(expected(kForwards), "one")).empty());
  CHECK(messages(host.conflicts(expected("lab = \"two\"\n[host]\nsysctl = { \"net.ipv4.ip_forward\" = 1 }\n"), "two"))
            .empty());
  CHECK(
      messages(host.conflicts(expected("lab = \"off\"\n[host]\nsysctl = { \"net.ipv4.ip_forward\" = 0 }\n"), "off")) ==
      std::vector<std::string>{"host: sysctl net.ipv4.ip_forward is 1 for lab 'one', which holds it; this lab sets 0"});
  std::string drop = "lab = \"drop\"\n[host.policy]\nforward = \"drop\"\n";
  CHECK(messages(host.conflicts(expected(drop), "drop")) ==
        std::vector<std::string>{"host: lab 'one' forwards in host (net.ipv4.ip_forward = 1); [host.policy] forward = "
                                 "\"drop\" would drop its traffic"});

  HostSysctls dropping;
  dropping.settle("drop", expected(drop).namespaces.at("host"), &before);
  CHECK(messages(dropping.conflicts(expected(kForwards), "one")) ==
        std::vector<std::string>{"host: lab 'drop' drops forwarded traffic in host ([host.policy] forward = \"drop\"); "
                                 "this lab forwards there (net.ipv4.ip_forward = 1)"});
}
