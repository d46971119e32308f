// How deeply a lab file nests, checked before toml++ parses it. toml++ bounds arrays and
// inline tables (256 levels) but not dotted keys: it recurses once per part of
// `a.b.c. ... = 1` or `[a.b.c. ...]`, and a key of some 40,000 parts overflows the stack,
// a crash instead of an error. A lab's deepest key has two parts ([host.policy]).
#pragma once

#include <string_view>

#include "parser/diagnostics.h"

namespace topo {

inline constexpr int kMaxKeyParts = 16;

/// Reports the first dotted key of more than kMaxKeyParts parts and returns false; true
/// when there is none. Strings and comments are skipped as TOML reads them, so a dot in
/// "10.0.0.1" or in a comment is no part of a key.
bool check_nesting(std::string_view text, Diagnostics& diags);

}  // namespace topo
