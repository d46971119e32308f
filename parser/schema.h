// Every table a lab file can have and the keys each accepts. The reader refuses anything
// else (with a did-you-mean from these lists) and a test checks that docs/format.md
// documents every key listed here, so the three cannot drift apart.
#pragma once

#include <string_view>
#include <vector>

namespace topo {

struct KeySpec {
  std::string_view name;
  std::string_view type;  // as docs/format.md says it: "string", "integer", "array of strings"...
};

struct TableSpec {
  std::string_view title;  // "top level", "[host]", "[[netns]]", "[[veth]] end", ...
  std::vector<KeySpec> keys;

  std::vector<std::string_view> key_names() const;
  bool has(std::string_view key) const;
};

const std::vector<TableSpec>& lab_schema();
/// The spec titled `title`; the title must exist (a programming error otherwise).
const TableSpec& table_spec(std::string_view title);

}  // namespace topo
