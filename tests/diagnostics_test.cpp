#include <catch2/catch.hpp>

#include "parser/diagnostics.h"

using namespace topo;

TEST_CASE("an error quotes its line with a caret under the span", "[diagnostics]") {
  SourceFile file("lab.toml", "lab = \"web\"\n[[veth]]\na = { adress = 1 }\n");
  Diagnostic d{{3, 7}, 6, "unknown key 'adress'", {}};
  CHECK(render(file, d) ==
        "lab.toml:3:7: error: unknown key 'adress'\n"
        "    3 | a = { adress = 1 }\n"
        "      |       ^~~~~~\n");
}

TEST_CASE("notes follow their error with their own quote", "[diagnostics]") {
  SourceFile file("x.toml", "a\nb\n");
  Diagnostic d{{2, 1}, 1, "defined twice", {{{1, 1}, "first defined here"}}};
  CHECK(render(file, d) ==
        "x.toml:2:1: error: defined twice\n"
        "    2 | b\n"
        "      | ^\n"
        "x.toml:1:1: note: first defined here\n"
        "    1 | a\n"
        "      | ^\n");
}

TEST_CASE("the caret counts characters, not bytes, and keeps tabs", "[diagnostics]") {
  SourceFile file("x.toml", "\tn = \"é\" x\n");
  Diagnostic d{{1, 10}, 1, "m", {}};
  CHECK(render(file, d) ==
        "x.toml:1:10: error: m\n"
        "    1 | \tn = \"é\" x\n"
        "      | \t        ^\n");
}

TEST_CASE("an error without a position names only the file", "[diagnostics]") {
  SourceFile file("gone.toml", "");
  CHECK(render(file, {{}, 1, "cannot read the lab file", {}}) ==
        "gone.toml: error: cannot read the lab file\n");
}

TEST_CASE("errors come out in file order, each once", "[diagnostics]") {
  Diagnostics d;
  d.error({5, 1}, "late");
  d.error({2, 3}, "early");
  d.error({5, 1}, "late");
  auto sorted = d.sorted();
  REQUIRE(sorted.size() == 2);
  CHECK(sorted[0].message == "early");
  CHECK(sorted[1].message == "late");
}
