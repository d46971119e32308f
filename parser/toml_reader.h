// TOML text -> Lab. Checks everything that one table can tell on its own: syntax, types,
// required and unknown keys, names, addresses, ranges, keys that exclude each other.
// Cross-references (does that netns exist? is the master a bridge?) are validate.h's job.
#pragma once

#include <optional>

#include "parser/diagnostics.h"
#include "parser/model.h"
#include "parser/source.h"

namespace topo {

/// The lab, or nullopt when the text is not TOML at all (then `diags` says why). On other
/// errors a partial lab is still returned so that validation can report more at once;
/// callers must check `diags` before trusting it.
std::optional<Lab> read_lab(const SourceFile& file, Diagnostics& diags);

}  // namespace topo
