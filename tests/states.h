// Observed kernel states built by hand, without Catch, so that the fuzz target
// (fuzz/fuzz_lab.cpp) plans against the same fixtures as the differ's and planner's tests.
#pragma once

#include <cstdint>

#include "planner/state.h"

namespace topo::test {

// What the kernel holds once the lab is applied: the expected state plus the values the
// kernel picks itself (mtu, mac).
inline State applied(const State& expected) {
  State s = expected;
  int n = 0;
  for (auto& [name, ns] : s.namespaces) {
    for (LinkState& l : ns.links) {
      if (!l.mtu) l.mtu = 1500;
      if (!l.mac) l.mac = MacAddress{{0x02, 0, 0, 0, 0, static_cast<uint8_t>(++n)}};
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
