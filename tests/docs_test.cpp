// docs/format.md must document every key the reader accepts: each table of the schema has a
// heading naming it, and each of its keys a row "| `key` | ..." in that heading's section.
#include <catch2/catch.hpp>

#include "parser/schema.h"
#include "tests/files.h"

using namespace topo;
using namespace topo::test;

namespace {

std::string strip_backticks(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '`'), s.end());
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The text under the first heading that contains `title`, up to the next heading of the
// same or a higher level.
std::string section(const std::string& doc, std::string_view title) {
  std::istringstream in(doc);
  std::string line, body;
  size_t level = 0;
  while (std::getline(in, line)) {
    size_t hashes = line.find_first_not_of('#');
    bool heading = !line.empty() && line[0] == '#' && hashes != std::string::npos;
    if (level == 0) {
      if (heading && lower(strip_backticks(line)).find(lower(std::string(title))) != std::string::npos)
        level = hashes;
      continue;
    }
    if (heading && hashes <= level) break;
    body += line + "\n";
  }
  return level ? body : "";
}

}  // namespace

TEST_CASE("docs/format.md documents every key the parser accepts", "[docs]") {
  std::string doc = read_file(source_dir() / "docs/format.md");
  REQUIRE_FALSE(doc.empty());
  for (const TableSpec& table : lab_schema()) {
    std::string body = section(doc, table.title);
    INFO("section for " << table.title);
    CHECK_FALSE(body.empty());
    for (const KeySpec& key : table.keys) {
      INFO("key " << key.name);
      CHECK(body.find("| `" + std::string(key.name) + "` |") != std::string::npos);
    }
  }
}

TEST_CASE("docs/cli.md covers every command topo has", "[docs]") {
  std::string doc = read_file(source_dir() / "docs/cli.md");
  for (std::string command : {"validate", "graph", "plan", "apply", "destroy", "test", "show", "exec", "list", "completion"}) {
    INFO(command);
    CHECK(doc.find("## `topo " + command) != std::string::npos);
    Run help = run_topo(command + " --help");
    CHECK(help.status == 0);
  }
}

TEST_CASE("every test's name reaches ctest whole (no ';', where ctest's discovery splits it)", "[docs]") {
  // A name with ';' is registered as two tests that match nothing: "No test cases
  // matched", counted as passed, and the test never runs (five did so, once).
  for (const auto& path : files_in(source_dir() / "tests", ".cpp")) {
    std::istringstream in(read_file(path));
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.rfind("TEST_CASE(\"", 0) != 0) continue;
      std::string name = line.substr(11, line.find('"', 11) - 11);
      INFO(path.filename().string() << ":" << n << ": " << name);
      CHECK(name.find(';') == std::string::npos);
    }
  }
}
