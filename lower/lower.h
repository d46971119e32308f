// The compiler's high level, lowered to the primitives the planner knows: a pure stage
// between the model and the expected state (parse -> validate -> model -> lower -> expected).
// `topo expand` prints what it makes.
#pragma once

#include "parser/diagnostics.h"
#include "parser/model.h"

namespace topo {

/// Expands [[netns]] groups (`count`), then lowers each [[network]] to its bridge (holding
/// each subnet's gateway address), forwarding and masquerade in its namespace, and each
/// namespace's `networks` and `publish` to veths to those bridges, allocated addresses,
/// default routes through the gateways and dnat rules. `[[expect]] to = NETWORK` becomes the
/// network's gateway address. Errors are reported at the high-level lines; the lab returned
/// has no networks, groups, memberships or published ports left.
Lab lower(Lab lab, Diagnostics& diags);

/// Expectations a lab has at most once "*" is expanded: all pairs of a thousand namespaces.
inline constexpr size_t kMaxExpectations = 1'000'000;

}  // namespace topo
