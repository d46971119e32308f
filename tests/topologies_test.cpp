// Every bundled lab in topologies/ is valid, and its model is exactly what its golden file
// tests/golden/NAME.txt says (the text `topo graph` prints).
#include "parser/describe.h"
#include "tests/files.h"
#include "tests/lab_text.h"

using namespace topo::test;

TEST_CASE("every topologies/ lab is valid and has the model its golden file shows", "[topologies]") {
  auto labs = files_in(source_dir() / "topologies", ".toml");
  CHECK(labs.size() >= 7);
  for (const auto& path : labs) {
    DYNAMIC_SECTION(path.filename().string()) {
      LoadedLab loaded = load_lab_file(path.string());
      INFO(loaded.report());
      REQUIRE(loaded.ok());
      auto golden = source_dir() / "tests/golden" / path.filename().replace_extension(".txt");
      REQUIRE(std::filesystem::exists(golden));
      CHECK(describe(*loaded.lab) == read_file(golden));
    }
  }
}

TEST_CASE("topo validate accepts all topologies at once", "[topologies][cli]") {
  Run r = run_topo("validate -q " + (source_dir() / "topologies").string() + "/*.toml");
  CHECK(r.status == 0);
  CHECK(r.output.empty());
}
