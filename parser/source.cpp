#include "parser/source.h"

namespace topo {

std::string_view SourceFile::line(int n) const {
  if (n < 1) return {};
  std::string_view rest = text_;
  for (int i = 1; i < n; ++i) {
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
