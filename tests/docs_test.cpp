// docs/format.md must document every key the reader accepts: each table of the schema has a
// heading naming it, and each of its keys a row "| `key` | ..." in that heading's section.
#include <catch2/catch.hpp>

#include "parser/schema.h"
#include "tests/files.h"

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
      if (heading && lower(strip_backticks(line)).find(lower(std::string(title))) != std::string::npos) level = hashes;
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
  for (std::string command :
       {"validate", "graph", "expand", "plan", "apply", "destroy", "test", "show", "exec", "list", "completion"}) {
    INFO(command);
    CHECK(doc.find("## `topo " + command) != std::string::npos);
    Run help = run_topo(command + " --help");
    CHECK(help.status == 0);
  }
}

namespace {

// Why ctest would not run the test case named `name` as it is, or "" when it would.
// catch_discover_tests (CatchAddTests.cmake) reads `topo_tests --list-test-names-only` as a
// CMake list and gives each name back to the binary as a test spec: a ';' splits it into two
// tests that match nothing ("No test cases matched", counted as passed by ctest); the spec's
// own syntax takes '"' and '\\' (quoting and escaping), a leading '~' (exclude), a '*' at either
// end (wildcard) and spaces at either end (trimmed); `]==]` ends the bracket argument the
// name is written in; a leading '#' is listed in quotes.
std::string why_ctest_splits(const std::string& name) {
  if (name.empty()) return "it is empty";
  if (name.find(';') != std::string::npos) return "';' splits it into two ctest tests";
  if (name.find_first_of("\"\\") != std::string::npos) return "'\"' or '\\' is test-spec syntax";
  if (name.find("]==]") != std::string::npos) return "']==]' ends CMake's bracket argument";
  if (std::string_view("~#*").find(name.front()) != std::string_view::npos)
    return "its first character is test-spec syntax";
  if (name.back() == '*') return "a '*' at its end is a wildcard";
  if (std::isspace(static_cast<unsigned char>(name.front())) || std::isspace(static_cast<unsigned char>(name.back())))
    return "spaces at either end are trimmed from a test spec";
  return "";
}

}  // namespace

TEST_CASE("every test's name reaches ctest whole, as the test binary lists it", "[docs]") {
  // The names are the binary's own list, the one catch_discover_tests reads, not a grep of
  // the sources: a name built by a macro or split over lines is in it too.
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  Run list = run_shell("'" + self + "' --list-test-names-only");
  std::istringstream in(list.output);
  std::string name;
  size_t names = 0;
  while (std::getline(in, name)) {
    if (name.empty()) continue;
    ++names;
    INFO(name);
    CHECK(why_ctest_splits(name) == "");
  }
  CHECK(names > 100);
  CHECK(list.output.find("every test's name reaches ctest whole, as the test binary lists it\n") != std::string::npos);
}

TEST_CASE("the guard on test names finds each way ctest would not run a test", "[docs]") {
  CHECK(why_ctest_splits("plan: a route, then another") == "");
  CHECK(why_ctest_splits("plan: a route; then another") == "';' splits it into two ctest tests");
  CHECK(why_ctest_splits("a \"quoted\" word") == "'\"' or '\\' is test-spec syntax");
  CHECK(why_ctest_splits("a\\b") == "'\"' or '\\' is test-spec syntax");
  CHECK(why_ctest_splits("~ sysctl") == "its first character is test-spec syntax");
  CHECK(why_ctest_splits("#74") == "its first character is test-spec syntax");
  CHECK(why_ctest_splits("all *") == "a '*' at its end is a wildcard");
  CHECK(why_ctest_splits("x ]==] y") == "']==]' ends CMake's bracket argument");
  CHECK(why_ctest_splits(" x") == "spaces at either end are trimmed from a test spec");
}
