// Test helpers for the files in the source tree and for running the topo binary.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace topo::test {

// A test that uses topo::test uses topo's own names too: `using namespace topo::test` is enough.
using namespace topo;

inline std::filesystem::path source_dir() { return TOPO_SOURCE_DIR; }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The files in `dir` ending in `ext`, sorted so that failures are reported in a stable order.
inline std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir, const std::string& ext) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// The text of the lab file `name` in topologies/.
inline std::string topology(const std::string& name) { return read_file(source_dir() / "topologies" / name); }

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr together
};

/// Runs a shell command line, stdout and stderr together.
inline Run run_shell(const std::string& command) {
  std::string cmd = command + " 2>&1";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

/// Runs `topo ARGS` through the shell (arguments are the caller's, already quoted).
inline Run run_topo(const std::string& args) { return run_shell(std::string(TOPO_BINARY) + " " + args); }

/// A directory of its own under /tmp for one test, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "topo-test-XXXXXX").string();
    path_ = mkdtemp(templ.data()) ? templ : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

/// Runs a bash script inside a fresh sandbox (scripts/sandbox: its own network namespace,
/// tmpfs on /run and /etc/netns), with $TOPO naming the binary under test and `set -eu`.
/// Nothing it makes outlives it.
inline Run in_sandbox(const std::string& script) {
  TempDir dir;
  std::string file = dir.write("script.sh", "set -eu\n" + script);
  return run_shell("TOPO=" + std::string(TOPO_BINARY) + " " + (source_dir() / "scripts/sandbox").string() + " bash " +
                   file);
}

}  // namespace topo::test
