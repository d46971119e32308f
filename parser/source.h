// A lab file held in memory, so that diagnostics can quote the offending line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace topo {

/// A position in a lab file: 1-based line and column; 0 means "unknown".
struct SourcePos {
  int line = 0;
  int column = 0;

  bool known() const { return line > 0; }
  friend bool operator==(const SourcePos&, const SourcePos&) = default;
  friend auto operator<=>(const SourcePos&, const SourcePos&) = default;
};

/// A value together with where the file said it.
template <class T>
struct Located {
  T value{};
  SourcePos pos;
};

/// The text of one lab file and the name it is reported under.
class SourceFile {
 public:
  SourceFile(std::string path, std::string text);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }

  /// The text of 1-based line `n`, without its newline; empty when out of range.
  std::string_view line(int n) const;

 private:
  std::string path_;
  std::string text_;
  // Where lines 1, 1 + kLinesPerMark, 1 + 2 * kLinesPerMark... start: finding a line is a
  // jump and a short scan, so that quoting each of tens of thousands of errors does not
  // take time to its line (it made `validate` quadratic), for an index of 1/64 the size.
  static constexpr int kLinesPerMark = 64;
  std::vector<size_t> marks_;
};

}  // namespace topo
