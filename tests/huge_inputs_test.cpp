// Inputs built to exhaust topo rather than to describe a lab: too large, too deep, a line of
// megabytes, tens of thousands of errors. Each is refused with a clear error and exit 1,
// quickly and with bounded output. They are generated here rather than committed to
// tests/bad/: megabytes of brackets would say nothing to a reader.
#include <sys/resource.h>

#include "parser/nesting.h"
#include "tests/files.h"
#include "tests/lab_text.h"

using namespace topo::test;

namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The CPU seconds (user and system) of the children this process has waited for, the
// shell's and topo's through it: what the limits below bound, since the wall time of a
// run on a loaded machine (the suite's other tests, other builds) says little of topo.
double children_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_CHILDREN, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// `topo validate` on `text`, written to a file of its own; checks exit 1, a first error
// that starts with `first` (after "FILE:"), the time and the size of what it prints.
void refused(const std::string& text, const std::string& first, double seconds = 10) {
  TempDir dir;
  std::string file = dir.write("huge.toml", text);
  double start = children_cpu_seconds();
  Run r = run_topo("validate '" + file + "'");
  double took = children_cpu_seconds() - start;
  INFO(r.output.substr(0, 2000));
  CHECK(r.status == 1);
  CHECK(r.output.rfind(file + ":" + first, 0) == 0);
  CHECK(took < seconds);
  CHECK(r.output.size() < 4096);
}

}  // namespace

TEST_CASE("a dotted key of more parts than any lab needs is refused before toml++ recurses on it", "[huge]") {
  CHECK(errors("lab = \"web\"\nx" + repeat(".x", kMaxKeyParts) + " = 1\n") ==
        Lines{"2:1: a dotted key of more than 16 parts; a lab file's deepest has 2"});
  CHECK(errors("lab = \"web\"\n[x" + repeat(" . \"x\"", kMaxKeyParts) + "]\n") ==
        Lines{"2:2: a dotted key of more than 16 parts; a lab file's deepest has 2"});
  // 16 parts is only an unknown key.
  CHECK(errors("lab = \"web\"\nx" + repeat(".x", kMaxKeyParts - 1) + " = 1\n") ==
        Lines{"2:1: unknown key 'x' in the top level"});
}

TEST_CASE("dots in strings and comments and numbers are no parts of a key", "[huge]") {
  std::string dots = repeat(".a", 40);  // a valid lab
  CHECK(errors("lab = \"web\" # " + dots +
               "\n"
               "[host]\n"
               "sysctl = { \"net.ipv4.conf" +
               dots + "\" = 1, 'net.x" + dots + "' = \"\"\"1" + dots +
               "\"\"\" }\n"
               "[[expect]]\nfrom = \"host\"\nto = \"10.0.0.1\"\nreach = true\ntimeout = 1.5\n") == Lines{});
}

TEST_CASE("topo validate refuses a key of 100,000 parts, with its position", "[huge][cli]") {
  refused("lab = \"web\"\na" + repeat(".b", 100000) + " = 1\n", "2:1: error: a dotted key of more than 16 parts");
  refused("lab = \"web\"\n[a" + repeat(".b", 100000) + "]\n", "2:2: error: a dotted key of more than 16 parts");
}

TEST_CASE("topo validate refuses arrays and inline tables nested 10,000 deep", "[huge][cli]") {
  refused("lab = \"web\"\na = " + repeat("[", 10000) + repeat("]", 10000) + "\n",
          "2:261: error: invalid TOML: value: exceeded maximum nested value depth of 256");
  refused("lab = \"web\"\na = " + repeat("{ b = ", 10000) + "1" + repeat("}", 10000) + "\n",
          "2:1541: error: invalid TOML: value: exceeded maximum nested value depth of 256");
}

TEST_CASE("topo validate refuses a file of more than 8 MiB without parsing it", "[huge][cli]") {
  std::string big = "lab = \"web\"\n" + repeat("# " + std::string(1021, 'x') + "\n", 10 * 1024);
  refused(big, " error: the lab file is " + std::to_string(big.size()) + " bytes; topo reads at most 8 MiB");
}

TEST_CASE("an error at the end of a line of megabytes is quoted in a few hundred bytes", "[huge][cli]") {
  refused("lab = \"web\"\n[[netns]]\nname = \"" + std::string(4 << 20, 'n') + "\"\n",
          "3:8: error: netns name 'nnnnnnnnnn");
}

TEST_CASE("tens of thousands of errors take seconds, not minutes", "[huge][cli]") {
  std::string lab = "lab = \"web\"\n";
  for (int i = 0; i < 50000; ++i) lab += fmt::format("[[netns]]\nname = \"n{}\"\nbad = 1\n", i);
  TempDir dir;
  std::string file = dir.write("many.toml", lab);
  double start = children_cpu_seconds();
  Run r = run_topo("validate '" + file + "'");
  double took = children_cpu_seconds() - start;
  CHECK(r.status == 1);
  CHECK(r.output.find(file + ":150001:1: error: unknown key 'bad' in [[netns]] 'n49999'") != std::string::npos);
  CHECK(took < 20);  // 0.5 s, a few under the sanitizers; it was minutes
}
