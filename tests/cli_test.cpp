// The topo binary as a user meets it: exit codes, help, version, output streams.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <unistd.h>

#include "tests/files.h"

using namespace topo::test;

namespace {

// A lab file in a fresh temporary directory, removed when the test ends.
struct TempLab {
  std::filesystem::path dir;
  std::filesystem::path path;
  explicit TempLab(const std::string& text) {
    char tmpl[] = "/tmp/topo-test-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir / "lab.toml";
    std::ofstream(path) << text;
  }
  ~TempLab() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("topo --version and --help", "[cli]") {
  Run v = run_topo("--version");
  CHECK(v.status == 0);
  CHECK(v.output.rfind("topo ", 0) == 0);
  Run h = run_topo("--help");
  CHECK(h.status == 0);
  CHECK(h.output.find("validate") != std::string::npos);
  CHECK(h.output.find("graph") != std::string::npos);
}

TEST_CASE("usage errors exit 64", "[cli]") {
  CHECK(run_topo("").status == 64);
  CHECK(run_topo("frobnicate").status == 64);
  CHECK(run_topo("validate").status == 64);
  CHECK(run_topo("validate --bogus x.toml").status == 64);
}

TEST_CASE("validate: ok line, errors with caret, exit 1", "[cli]") {
  TempLab good("lab = \"t\"\n[[netns]]\nname = \"red\"\n");
  Run ok = run_topo("validate " + good.path.string());
  CHECK(ok.status == 0);
  CHECK(ok.output == good.path.string() + ": ok (lab 't': 1 namespace, 0 interfaces, 0 routes, 0 NAT rules)\n");

  TempLab bad("lab = \"t\"\n[[netns]]\nnaem = \"red\"\n");
  Run r = run_topo("validate " + bad.path.string());
  CHECK(r.status == 1);
  std::string p = bad.path.string();
  CHECK(r.output == p +
                        ":2:1: error: missing required key 'name' in [[netns]]\n"
                        "    2 | [[netns]]\n"
                        "      | ^\n" +
                        p +
                        ":3:1: error: unknown key 'naem' in [[netns]] (did you mean 'name'?)\n"
                        "    3 | naem = \"red\"\n"
                        "      | ^~~~\n" +
                        p + ": 2 errors\n");
}

TEST_CASE("validate -q prints only errors, and several files are checked in one run", "[cli]") {
  TempLab good("lab = \"t\"\n");
  TempLab bad("lab = \"T\"\n");
  Run r = run_topo("validate -q " + good.path.string() + " " + bad.path.string());
  CHECK(r.status == 1);
  CHECK(r.output.find(good.path.string()) == std::string::npos);
  CHECK(r.output.find(bad.path.string() + ":1:7: error: lab name 'T'") == 0);
}

TEST_CASE("validate names a file it cannot read", "[cli]") {
  Run r = run_topo("validate /nonexistent/lab.toml");
  CHECK(r.status == 1);
  CHECK(r.output.find("/nonexistent/lab.toml: error: cannot read the lab file: No such file or "
                      "directory") == 0);
  Run d = run_topo("validate /tmp");
  CHECK(d.status == 1);
  CHECK(d.output.find("/tmp: error: cannot read the lab file: it is a directory") == 0);
}

TEST_CASE("validate - reads the lab from standard input, and its errors name it <stdin>", "[cli]") {
  TempLab good("lab = \"t\"\n");
  std::string topo = TOPO_BINARY;
  Run ok =
      run_shell("printf 'lab = \"s\"\\n[[netns]]\\nname = \"red\"\\n' | " + topo + " validate - " + good.path.string());
  CHECK(ok.status == 0);
  CHECK(ok.output == "<stdin>: ok (lab 's': 1 namespace, 0 interfaces, 0 routes, 0 NAT rules)\n" + good.path.string() +
                         ": ok (lab 't': 0 namespaces, 0 interfaces, 0 routes, 0 NAT rules)\n");
  Run bad = run_shell("printf 'lab = \"T\"\\n' | " + topo + " validate -");
  CHECK(bad.status == 1);
  CHECK(bad.output.rfind("<stdin>:1:7: error: lab name 'T'", 0) == 0);
  CHECK(bad.output.find("    1 | lab = \"T\"\n") != std::string::npos);
  CHECK(bad.output.find("<stdin>: 1 error\n") != std::string::npos);
  Run big = run_shell("head -c 9M /dev/zero | tr '\\0' '#' | " + topo + " validate -");
  CHECK(big.status == 1);
  CHECK(big.output == "<stdin>: error: the lab file is larger than 8 MiB, the most topo reads\n<stdin>: 1 error\n");
  Run graph = run_shell("printf 'lab = \"s\"\\n' | " + topo + " graph -");
  CHECK(graph.status == 0);
}

TEST_CASE("validate refuses files larger than 8 MiB before parsing them", "[cli]") {
  TempLab big(std::string(9 << 20, '#'));
  Run r = run_topo("validate " + big.path.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("topo reads at most 8 MiB") != std::string::npos);
}

TEST_CASE("graph prints the model grouped by namespace, or the errors", "[cli]") {
  TempLab lab(R"(lab = "t"
[[netns]]
name = "red"
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24"] }
b = { name = "red-p" }
)");
  Run r = run_topo("graph " + lab.path.string());
  CHECK(r.status == 0);
  CHECK(r.output ==
        "lab t\n"
        "netns host\n"
        "  veth red-p peer red/eth0\n"
        "netns red\n"
        "  veth eth0 peer host/red-p 10.0.0.2/24\n");
  TempLab bad("lab = 1\n");
  CHECK(run_topo("graph " + bad.path.string()).status == 1);
}
