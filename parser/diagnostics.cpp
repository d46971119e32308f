#include "parser/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>

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

// Columns count characters, not bytes; tabs are kept so that the caret lines up.
std::string caret_line(std::string_view line, int column, int length) {
  std::string pad;
  int col = 1;
  for (size_t i = 0; i < line.size() && col < column; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte: same character
    pad += c == '\t' ? '\t' : ' ';
    ++col;
  }
  return pad + "^" + std::string(static_cast<size_t>(length - 1), '~');
}

void append_quote(std::string& out, const SourceFile& file, SourcePos pos, int length) {
  if (!pos.known()) return;
  std::string_view text = file.line(pos.line);
  std::string number = std::to_string(pos.line);
  out += fmt::format(" {:>4} | {}\n", number, text);
  out += fmt::format(" {:>4} | {}\n", "", caret_line(text, pos.column, length));
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
