// A lab written back as a lab file: what `topo expand` prints of a lowered lab, a file of
// primitives only that loads to the same lab. Each table says the line of the file it
// came from, so a bridge made by [[network]] 'front' points at that network.
#pragma once

#include <string>

#include "parser/model.h"

namespace topo {

/// The lab as TOML, tables in the model's order; `source` names the file in the comments.
std::string lab_toml(const Lab& lab, const std::string& source);

}  // namespace topo
