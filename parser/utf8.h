// UTF-8 as topo reads it from files and from the kernel: one character at a time, strictly
// (an overlong form, a surrogate or a code point past U+10FFFF is broken), and which
// characters would drive a terminal rather than be shown.
#pragma once

#include <cstddef>
#include <string_view>

namespace topo {

struct Utf8Char {
  size_t length = 0;  // bytes; 0 when the bytes at that place are not UTF-8
  char32_t code = 0;
};

/// The character of `text` that starts at byte `i` (< text.size()).
Utf8Char utf8_at(std::string_view text, size_t i);

/// Control characters (C0 but tab, DEL, C1) and the bidirectional controls, which make a
/// terminal show the rest of the line reordered (a name could make "is not allowed" read
/// as something else).
bool drives_terminal(char32_t c);

}  // namespace topo
