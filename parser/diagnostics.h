// Problems found in a lab file, collected as values and rendered compiler-style:
//
//   lab.toml:12:7: error: unknown key 'adress' in [[veth]] end 'a' (did you mean 'addresses'?)
//      12 | a = { netns = "red", name = "eth0", adress = ["10.0.0.2/24"] }
//         |                                     ^~~~~~
#pragma once

#include <string>
#include <vector>

#include "parser/source.h"

namespace topo {

struct Note {
  SourcePos pos;
  std::string message;
};

struct Diagnostic {
  SourcePos pos;
  int length = 1;  // how many columns the caret underlines
  std::string message;
  std::vector<Note> notes;  // e.g. "first defined here"
};

/// Collects every problem in one pass so that the user sees them all at once.
class Diagnostics {
 public:
  Diagnostic& error(SourcePos pos, std::string message, int length = 1);
  void note(SourcePos pos, std::string message);  // attaches to the last error

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }

  /// The errors in file order (line, then column), each kept once.
  std::vector<Diagnostic> sorted() const;

 private:
  std::vector<Diagnostic> errors_;
};

/// `text` with what drives the terminal (control characters but tab and newline,
/// bidirectional controls) shown as <U+XXXX> and broken UTF-8 as <0xXX>: for every message
/// that quotes a name from the file or from the kernel, so the reader sees what is there.
std::string shown(std::string_view text);

/// "file:line:col: error: message", then the line and a caret, then the notes.
std::string render(const SourceFile& file, const Diagnostic& d);

/// "file:line:col: error: message" only: for tests and -q style output.
std::string render_short(const SourceFile& file, const Diagnostic& d);

}  // namespace topo
