#include "parser/nesting.h"

#include <fmt/format.h>

namespace topo {
namespace {

bool is_bare_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Reads a dotted key's parts off the text, a string or a bare word at a time, skipping
// comments. Values go through it too ("1.5" is a two-part chain): harmless, they are short.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool run(Diagnostics& diags) {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == '#') {
        end_key();
        skip_to_newline();
      } else if (c == '"' || c == '\'') {
        part();
        skip_string(c);
      } else if (is_bare_key_char(c)) {
        part();
        while (i_ < text_.size() && is_bare_key_char(text_[i_])) ++i_;
      } else if (c == '.' && parts_ > 0) {
        after_dot_ = true;
        ++i_;
      } else if (c == ' ' || c == '\t') {
        ++i_;  // TOML allows blanks around a key's dots
      } else {
        end_key();
        ++i_;
      }
      if (parts_ > kMaxKeyParts) {
        diags.error(position(start_),
                    fmt::format("a dotted key of more than {} parts; a lab file's deepest has 2", kMaxKeyParts));
        return false;
      }
    }
    return true;
  }

 private:
  // A key part begins at i_: it continues the chain after a dot, or starts a new one.
  void part() {
    if (!after_dot_) {
      parts_ = 0;
      start_ = i_;
    }
    after_dot_ = false;
    ++parts_;
  }

  void end_key() {
    parts_ = 0;
    after_dot_ = false;
  }

  void skip_to_newline() {
    while (i_ < text_.size() && text_[i_] != '\n') ++i_;
  }

  bool at(std::string_view s) const { return text_.substr(i_, s.size()) == s; }

  // From the opening quote to just past the closing one, as TOML reads strings: basic ones
  // ("...") have escapes, literal ones ('...') do not; tripled quotes span lines and may end
  // with up to two more quotes of the string's own.
  void skip_string(char quote) {
    bool escapes = quote == '"';
    std::string triple(3, quote);
    bool multi = at(triple);
    i_ += multi ? 3 : 1;
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (escapes && c == '\\') {
        i_ += 2;
      } else if (!multi && c == '\n') {
        return;  // unterminated: toml++ says so
      } else if (c == quote && (!multi || at(triple))) {
        size_t n = 0;
        while (i_ < text_.size() && text_[i_] == quote && n < (multi ? 5u : 1u)) ++i_, ++n;
        return;
      } else {
        ++i_;
      }
    }
  }

  // Line and column (in characters, as diagnostics count them) of byte offset `at`.
  SourcePos position(size_t at) const {
    SourcePos p{1, 1};
    for (size_t k = 0; k < at; ++k) {
      if (text_[k] == '\n') {
        ++p.line;
        p.column = 1;
      } else if ((static_cast<unsigned char>(text_[k]) & 0xC0) != 0x80) {
        ++p.column;
      }
    }
    return p;
  }

  std::string_view text_;
  size_t i_ = 0;
  int parts_ = 0;  // parts of the dotted key being read, 0 outside one
  bool after_dot_ = false;
  size_t start_ = 0;  // where that key began
};

}  // namespace

bool check_nesting(std::string_view text, Diagnostics& diags) { return Scanner(text).run(diags); }

}  // namespace topo
