#include "parser/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

#include "parser/utf8.h"

namespace topo {

Diagnostic& Diagnostics::error(SourcePos pos, std::string message, int length) {
  errors_.push_back({pos, std::max(length, 1), std::move(message), {}});
  return errors_.back();
}

void Diagnostics::note(SourcePos pos, std::string message) {
  if (!errors_.empty()) errors_.back().notes.push_back({pos, std::move(message)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = errors_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) { return a.pos < b.pos; });
  // The same problem can be reached twice (e.g. a name checked as a key and as a value, or
  // in each machine's slice of a lab).
  std::set<std::pair<std::pair<int, int>, std::string>> seen;
  std::vector<Diagnostic> once;
  for (Diagnostic& d : out)
    if (seen.insert({{d.pos.line, d.pos.column}, d.message}).second) once.push_back(std::move(d));
  return once;
}

namespace {

std::string location(const SourceFile& file, SourcePos pos) {
  if (!pos.known()) return file.path();
  return fmt::format("{}:{}:{}", file.path(), pos.line, pos.column);
}

// A quoted line is cut to this many characters around the caret: a generated or hostile
// file can have a line of megabytes.
constexpr size_t kQuoteWidth = 160;

// The line's characters, one entry per column as toml++ counts them (a UTF-8 sequence is
// one). What drives the terminal, and broken UTF-8, becomes U+FFFD, one column wide, so the
// caret still lines up.
std::vector<std::string> characters(std::string_view line) {
  std::vector<std::string> out;
  for (size_t i = 0; i < line.size();) {
    Utf8Char s = utf8_at(line, i);
    if (s.length > 0 && !drives_terminal(s.code)) {
      out.emplace_back(line.substr(i, s.length));
      i += s.length;
      continue;
    }
    out.emplace_back("\uFFFD");
    i += s.length > 0 ? s.length : 1;
    while (s.length == 0 && i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
  }
  return out;
}

}  // namespace

std::string shown(std::string_view message) {
  std::string out;
  for (size_t i = 0; i < message.size();) {
    Utf8Char s = utf8_at(message, i);
    if (s.length == 0) {
      out += fmt::format("<0x{:02X}>", static_cast<unsigned char>(message[i++]));
    } else if (drives_terminal(s.code) && s.code != '\n') {
      out += fmt::format("<U+{:04X}>", static_cast<uint32_t>(s.code));
      i += s.length;
    } else {
      out += message.substr(i, s.length);
      i += s.length;
    }
  }
  return out;
}

namespace {

// The quote and its caret line: tabs are kept in the padding so that the caret lines up.
void append_quote(std::string& out, const SourceFile& file, SourcePos pos, int length) {
  if (!pos.known()) return;
  std::vector<std::string> chars = characters(file.line(pos.line));
  size_t caret = static_cast<size_t>(std::max(pos.column, 1) - 1);
  size_t from = 0, to = chars.size();
  if (to > kQuoteWidth) {
    from = caret > kQuoteWidth / 2 ? std::min(caret - kQuoteWidth / 2, to - kQuoteWidth) : 0;
    to = from + kQuoteWidth;
  }
  std::string text = from > 0 ? "\u2026" : "", pad = from > 0 ? " " : "";
  for (size_t i = from; i < to; ++i) {
    text += chars[i];
    if (i < caret) pad += chars[i] == "\t" ? '\t' : ' ';
  }
  if (to < chars.size()) text += "\u2026";
  size_t tail = caret < to ? to - caret : 1;
  std::string marks = "^" + std::string(std::clamp(static_cast<size_t>(std::max(length, 1)), size_t{1}, tail) - 1, '~');
  // The gutter widens past 9999 lines, the caret line's with it, so that the caret stays under its column.
  const std::string number = std::to_string(pos.line);
  const size_t width = std::max<size_t>(4, number.size());
  out += fmt::format(" {:>{}} | {}\n", number, width, text);
  out += fmt::format(" {:>{}} | {}{}\n", "", width, pad, marks);
}

}  // namespace

std::string render_short(const SourceFile& file, const Diagnostic& d) {
  return fmt::format("{}: error: {}", location(file, d.pos), shown(d.message));
}

std::string render(const SourceFile& file, const Diagnostic& d) {
  std::string out = render_short(file, d) + "\n";
  append_quote(out, file, d.pos, d.length);
  for (const Note& n : d.notes) {
    out += fmt::format("{}: note: {}\n", location(file, n.pos), shown(n.message));
    append_quote(out, file, n.pos, 1);
  }
  return out;
}

}  // namespace topo
