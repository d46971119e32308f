// The front half of the pipeline in one call: read a lab file, parse it, lower its high
// level (lower/lower.h) and validate the result.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "parser/diagnostics.h"
#include "parser/model.h"
#include "parser/source.h"

namespace topo {

/// Lab files are written by people or generators; anything this large is a mistake or an
/// attack, and refusing it early keeps memory bounded.
inline constexpr size_t kMaxLabFileBytes = 8 << 20;

struct LoadedLab {
  SourceFile file;
  std::optional<Lab> lab;          // set only when there were no errors
  std::vector<Diagnostic> errors;  // in file order

  bool ok() const { return lab.has_value(); }
  /// Every error rendered with its line and caret, ready to print.
  std::string report() const;
};

/// Parses and validates `text` as if it were the file `path`.
LoadedLab load_lab_text(std::string path, std::string text);
/// The name diagnostics give standard input, read for the path "-".
inline constexpr const char* kStdinName = "<stdin>";

/// Reads `path` first ("-": standard input, up to its end); an unreadable file is an error
/// of the result, not an exception.
LoadedLab load_lab_file(const std::string& path);

}  // namespace topo
