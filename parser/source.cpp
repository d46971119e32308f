#include "parser/source.h"

namespace topo {

SourceFile::SourceFile(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {
  marks_.push_back(0);
  size_t lines = 1;
  for (size_t nl = text_.find('\n'); nl != std::string::npos; nl = text_.find('\n', nl + 1))
    if (++lines % kLinesPerMark == 1) marks_.push_back(nl + 1);
}

std::string_view SourceFile::line(int n) const {
  if (n < 1) return {};
  size_t mark = static_cast<size_t>(n - 1) / kLinesPerMark;
  if (mark >= marks_.size()) return {};
  std::string_view rest = std::string_view(text_).substr(marks_[mark]);
  for (int i = 0; i < (n - 1) % kLinesPerMark; ++i) {
    auto nl = rest.find('\n');
    if (nl == std::string_view::npos) return {};
    rest.remove_prefix(nl + 1);
  }
  auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace topo
