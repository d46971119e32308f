// Lab -> the State the kernel should have once the lab is applied, restricted to what the
// lab manages. Pure: the differ compares it with the observed State.
#pragma once

#include "parser/model.h"
#include "planner/state.h"

namespace topo {

State expected_state(const Lab& lab);

/// What is left of a lab once destroyed: the host namespace, without anything of the lab's
/// (what destroy plans towards).
State destroyed_state();

/// The contents topo writes to /etc/netns/NAME/resolv.conf and /etc/netns/NAME/hosts
/// ("" when the namespace has no dns or hosts entries: then no file is written).
std::string resolv_conf_text(const Lab& lab, const Netns& ns);
std::string hosts_text(const Lab& lab, const Netns& ns);

}  // namespace topo
