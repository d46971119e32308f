// The kernel tests' harness: what every kernel_*_test.cpp needs to run a bash script in a
// sandbox (tests/files.h, in_sandbox) over lab files of its own, and to check what it printed.
// The bash helpers are in tests/kernel_scripts.h, the labs several files share in tests/labs.h.
#pragma once

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "tests/files.h"
#include "tests/kernel_scripts.h"
#include "tests/labs.h"

namespace topo::test {

/// Lab files for one sandbox script: each text goes to a file of its own, whose path the
/// script finds in the shell variable of its name ({"L", lab} gives $L).
using LabFiles = std::vector<std::pair<std::string, std::string>>;

/// Whether the lab at `path` is over several machines ([[machine]]).
inline bool over_machines(const std::filesystem::path& path) {
  return read_file(path).find("[[machine]]") != std::string::npos;
}

/// The topologies/ labs the kernel tests apply one after the other: all but the star of a
/// thousand namespaces (star-1000.toml), on which each would take minutes with `ip` as its
/// witness. That star has the expand oracle (with tests/netns_state.py as the witness), a
/// kernel test at three times its size (kernel_topologies_test) and bench/. Nor the labs
/// over several machines, which need machines (kernel_machines_test applies them).
inline std::vector<std::filesystem::path> example_labs() {
  std::vector<std::filesystem::path> out;
  for (const auto& path : files_in(source_dir() / "topologies", ".toml"))
    if (path.filename() != "star-1000.toml" && !over_machines(path)) out.push_back(path);
  return out;
}

/// Runs `script` in a sandbox (in_sandbox) with `files` written beside it.
inline Run in_sandbox(const LabFiles& files, const std::string& script) {
  TempDir dir;
  std::string vars;
  for (const auto& [var, text] : files) vars += var + "=" + dir.write(var + ".toml", text) + "\n";
  return in_sandbox(vars + script);
}

/// The part of a script's output after the line "== NAME", up to the next "== " line.
inline std::string part(const std::string& output, const std::string& name) {
  size_t start = output.find("== " + name + "\n");
  if (start == std::string::npos) return "(no part " + name + ")";
  start += name.size() + 4;
  size_t end = output.find("\n== ", start - 1);
  return output.substr(start, end == std::string::npos ? std::string::npos : end + 1 - start);
}

/// The script ran to its end (exit 0) and printed exactly `want`; what it printed is shown
/// when not.
inline void check_prints(const Run& r, const std::string& want) {
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == want);
}

/// The rules topo makes for `lab` are the very rules nft makes from its shell plan: the
/// expressions the kernel holds in host and in namespace r (handles left out: they number
/// objects as made), each way in a sandbox of its own, then the plan, which must be empty.
/// Each of `expressions` must be among topo's, so that the comparison is of something.
inline void check_rules_as_nft_makes(const std::string& lab, const std::vector<std::string>& expressions) {
  std::string dump =
      "dump() { for ns in '' r; do ${ns:+ip netns exec $ns} nft --debug=netlink list ruleset; done"
      " | sed -E 's/^(inet [^ ]+ [^ ]+) [0-9]+( [0-9]+)?$/\\1/'; }\n";
  Run by_topo = in_sandbox({{"L", lab}}, dump + "$TOPO apply $L > /dev/null\ndump\n$TOPO plan $L\n");
  Run by_nft = in_sandbox({{"L", lab}}, dump + "$TOPO plan --format shell $L | bash\ndump\n$TOPO plan $L\n");
  INFO(by_topo.output);
  CHECK(by_topo.status == 0);
  for (const std::string& e : expressions) {
    INFO("expression " << e);
    CHECK(by_topo.output.find(e) != std::string::npos);
  }
  CHECK(by_topo.output.substr(by_topo.output.size() - 40) == "No changes. The kernel matches the lab.\n");
  CHECK(by_topo.output == by_nft.output);
}

}  // namespace topo::test
