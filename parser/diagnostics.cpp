#include "parser/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

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
  std::stable_sort(out.begin(), out.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.pos < b.pos; });
  // The same problem can be reached twice (e.g. a name checked as a key and as a value).
  auto same = [](const Diagnostic& a, const Diagnostic& b) {
    return a.pos == b.pos && a.message == b.message;
  };
  out.erase(std::unique(out.begin(), out.end(), same), out.end());
  return out;
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
// one). What could drive the terminal instead of being shown (control characters, C1
// controls, broken UTF-8) becomes U+FFFD, one column wide, so the caret still lines up.
std::vector<std::string> characters(std::string_view line) {
  std::vector<std::string> out;
  for (size_t i = 0; i < line.size();) {
    auto c = static_cast<unsigned char>(line[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= line.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(line[i + k]) & 0xC0) == 0x80;
    bool control = (c < 0x20 && c != '\t') || c == 0x7f ||
                   (n == 2 && c == 0xC2 && static_cast<unsigned char>(line[i + 1]) < 0xA0);
    if (ok && !control) {
      out.emplace_back(line.substr(i, n));
      i += n;
      continue;
    }
    out.emplace_back("\uFFFD");
    i += ok ? n : 1;
    while (!ok && i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
  }
  return out;
}

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
  return fmt::format("{}: error: {}", location(file, d.pos), d.message);
}

std::string render(const SourceFile& file, const Diagnostic& d) {
  std::string out = render_short(file, d) + "\n";
  append_quote(out, file, d.pos, d.length);
  for (const Note& n : d.notes) {
    out += fmt::format("{}: note: {}\n", location(file, n.pos), n.message);
    append_quote(out, file, n.pos, 1);
  }
  return out;
}

}  // namespace topo
