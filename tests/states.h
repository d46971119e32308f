// Observed kernel states built by hand, without Catch, so that the fuzz target
// (fuzz/fuzz_lab.cpp) plans against the same fixtures as the differ's and planner's tests.
#pragma once

#include <cstdint>

#include "planner/diff.h"
#include "planner/state.h"

namespace topo::test {

// What the kernel holds once the lab is applied: the expected state plus the values the
// kernel picks itself (mtu, mac).
inline State applied(const State& expected) {
  State s = expected;
  std::map<std::pair<std::string, std::string>, int64_t> mtus = default_mtus(expected);
  int n = 0;
  for (auto& [name, ns] : s.namespaces) {
    for (LinkState& l : ns.links) {
      auto mtu = mtus.find({name, l.name});
      if (!l.mtu) l.mtu = mtu == mtus.end() ? 1500 : mtu->second;
      ++n;  // numbered whether or not the file gives it a mac (a bridge has one of its own)
      if (!l.mac) l.mac = MacAddress{{0x02, 0, 0, 0, 0, static_cast<uint8_t>(n)}};
    }
  }
  s.namespaces["host"].sysctls["net.ipv4.ip_forward"] = "1";
  return s;
}

// Nothing but the host namespace, with forwarding off.
inline State empty_kernel() {
  State s;
  s.namespaces["host"].exists = true;
  s.namespaces["host"].sysctls["net.ipv4.ip_forward"] = "0";
  return s;
}

}  // namespace topo::test
