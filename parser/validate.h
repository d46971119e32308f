// The checks that need the whole lab: duplicates, references between objects, and facts
// the kernel would refuse later (a master that is not a bridge, a gateway off every subnet).
#pragma once

#include "parser/diagnostics.h"
#include "parser/model.h"

namespace topo {

/// Adds a diagnostic for every problem; the lab is valid when none were added.
void validate(const Lab& lab, Diagnostics& diags);

}  // namespace topo
