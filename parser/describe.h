// One line of text per object of the model, for `topo graph` and tests. (Plans describe
// kernel state, in planner/render_text.h, with the same words.)
#pragma once

#include <string>

#include "parser/model.h"

namespace topo {

std::string describe(const Lab& lab, const Interface& i);  // "veth red-p peer red/eth0 master br0"
std::string describe(const Route& r);                      // "route default via 10.0.0.1 dev eth0"
std::string describe(const Nat& n);                        // "nat dnat tcp 8080 -> 10.0.0.2:80"
std::string describe(const Filter& f);                     // "filter forward: drop tcp dport 80 from !192.168.1.0/24"
std::string describe(const Sysctl& s);                     // "sysctl net.ipv4.ip_forward = 1"

/// The whole lab, grouped by namespace: the model as the file describes it.
std::string describe(const Lab& lab);

}  // namespace topo
