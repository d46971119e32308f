// The bad-input corpus: every tests/bad/*.toml breaks a rule of docs/format.md and says,
// in its leading comments, exactly which errors topo must report:
//
//   # a veth end's key misspelt
//   # expect: 4:20: unknown key 'adress' in [[veth]] end 'a' (did you mean 'addresses'?)
//
// The expect lines list every error in file order; an extra or a missing one fails.
#include "tests/files.h"
#include "tests/lab_text.h"

using namespace topo::test;

namespace {

std::vector<std::string> expected_errors(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  const std::string tag = "# expect: ";
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a file with CRLF line ends
    if (line.rfind(tag, 0) == 0) out.push_back(line.substr(tag.size()));
  }
  return out;
}

}  // namespace

TEST_CASE("every bad input is refused with exactly its expected errors", "[corpus]") {
  auto files = files_in(source_dir() / "tests/bad", ".toml");
  CHECK(files.size() >= 40);
  for (const auto& path : files) {
    DYNAMIC_SECTION(path.filename().string()) {
      std::vector<std::string> want = expected_errors(read_file(path));
      REQUIRE_FALSE(want.empty());  // a corpus file without expectations tests nothing
      LoadedLab loaded = load_lab_file(path.string());
      CHECK_FALSE(loaded.ok());
      CHECK(error_lines(loaded) == want);
    }
  }
}

TEST_CASE("topo validate exits 1 on every bad input and names the file and position", "[corpus][cli]") {
  for (const auto& path : files_in(source_dir() / "tests/bad", ".toml")) {
    DYNAMIC_SECTION(path.filename().string()) {
      Run r = run_topo("validate '" + path.string() + "'");
      CHECK(r.status == 1);
      std::string first = expected_errors(read_file(path)).at(0);
      CHECK(r.output.find(path.string() + ":" + first.substr(0, first.find(' ')) + " error:") != std::string::npos);
    }
  }
}
