#include <catch2/catch.hpp>

#include "parser/diagnostics.h"

using namespace topo;

namespace {

// How topo prints `d` for a file `name` whose text is `text`.
std::string quoted(const std::string& name, const std::string& text, const Diagnostic& d) {
  return render(SourceFile(name, text), d);
}

}  // namespace

TEST_CASE("an error quotes its line with a caret under the span", "[diagnostics]") {
  CHECK(quoted("lab.toml", "lab = \"web\"\n[[veth]]\na = { adress = 1 }\n", {{3, 7}, 6, "unknown key 'adress'", {}}) ==
        "lab.toml:3:7: error: unknown key 'adress'\n"
        "    3 | a = { adress = 1 }\n"
        "      |       ^~~~~~\n");
}

TEST_CASE("notes follow their error with their own quote", "[diagnostics]") {
  CHECK(quoted("x.toml", "a\nb\n", {{2, 1}, 1, "defined twice", {{{1, 1}, "first defined here"}}}) ==
        "x.toml:2:1: error: defined twice\n"
        "    2 | b\n"
        "      | ^\n"
        "x.toml:1:1: note: first defined here\n"
        "    1 | a\n"
        "      | ^\n");
}

TEST_CASE("past line 9999 the gutter widens and the caret stays under its column", "[diagnostics]") {
  std::string text(12344, '\n');
  text += "a = { adress = 1 }\n";
  CHECK(quoted("big.toml", text, {{12345, 7}, 6, "unknown key 'adress'", {}}) ==
        "big.toml:12345:7: error: unknown key 'adress'\n"
        " 12345 | a = { adress = 1 }\n"
        "       |       ^~~~~~\n");
}

TEST_CASE("the caret counts characters, not bytes, and keeps tabs", "[diagnostics]") {
  CHECK(quoted("x.toml", "\tn = \"é\" x\n", {{1, 10}, 1, "m", {}}) ==
        "x.toml:1:10: error: m\n"
        "    1 | \tn = \"é\" x\n"
        "      | \t        ^\n");
}

TEST_CASE("an error without a position names only the file", "[diagnostics]") {
  CHECK(quoted("gone.toml", "", {{}, 1, "cannot read the lab file", {}}) ==
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

TEST_CASE("a quoted line shows control bytes and broken UTF-8 as U+FFFD, one column each", "[diagnostics]") {
  // A lab file that toml++ refuses for a raw ESC or NUL must not drive the terminal when
  // its line is quoted; the caret still points at the same character.
  CHECK(quoted("x.toml", std::string("n = \"\x1b]0;t\x07\" \xff\0 x\n", 18), {{1, 17}, 1, "m", {}}) ==
        "x.toml:1:17: error: m\n"
        "    1 | n = \"\uFFFD]0;t\uFFFD\" \uFFFD\uFFFD x\n"
        "      |                 ^\n");
}

TEST_CASE("a bidirectional control shows as U+FFFD in the quote and as <U+XXXX> in the message", "[diagnostics]") {
  // U+202E (right-to-left override) in a name would make the terminal show the rest of the
  // line reversed: the message could be made to read as something else.
  SourceFile file("x.toml", "name = \"a\u202Eb\"\n");
  Diagnostic d{{1, 8}, 5, "netns name 'a\u202Eb' has character '\u202E', which is not allowed", {}};
  d.notes.push_back({{1, 8}, "x\u2066y \x1b[2J\xff"});
  CHECK(render(file, d) ==
        "x.toml:1:8: error: netns name 'a<U+202E>b' has character '<U+202E>', which is not allowed\n"
        "    1 | name = \"a\uFFFDb\"\n"
        "      |        ^~~~~\n"
        "x.toml:1:8: note: x<U+2066>y <U+001B>[2J<0xFF>\n"
        "    1 | name = \"a\uFFFDb\"\n"
        "      |        ^\n");
}

TEST_CASE("a long line is quoted around the caret, cut with an ellipsis", "[diagnostics]") {
  std::string line = std::string(1000, 'a') + "X" + std::string(1000, 'b');
  std::string quote = quoted("x.toml", line + "\n", {{1, 1001}, 5, "m", {}});
  CHECK(quote ==
        "x.toml:1:1001: error: m\n"
        "    1 | \u2026" +
            std::string(80, 'a') + "X" + std::string(79, 'b') +
            "\u2026\n"
            "      |  " +
            std::string(80, ' ') + "^~~~~\n");
}

TEST_CASE("a span longer than the quoted part stops at its end", "[diagnostics]") {
  CHECK(quoted("x.toml", std::string(300, 'a') + "\n", {{1, 1}, 300, "m", {}}) ==
        "x.toml:1:1: error: m\n"
        "    1 | " +
            std::string(160, 'a') +
            "\u2026\n"
            "      | ^" +
            std::string(159, '~') + "\n");
}

TEST_CASE("every line of a long file is found, on either side of the line index's marks", "[diagnostics]") {
  std::string text;
  for (int i = 1; i <= 200; ++i) text += "line " + std::to_string(i) + (i % 7 ? "\n" : "\r\n");
  SourceFile file("x.toml", text);
  for (int i = 1; i <= 200; ++i) CHECK(file.line(i) == "line " + std::to_string(i));
  CHECK(file.line(0).empty());
  CHECK(file.line(201).empty());
  CHECK(file.line(100000).empty());
}
