// The kernel tests' harness: what every kernel_*_test.cpp needs to run a bash script in a
// sandbox (tests/files.h, in_sandbox) over lab files of its own, and to check what it printed.
// The bash helpers are in tests/kernel_scripts.h, the labs several files share in tests/labs.h.
#pragma once

#include <catch2/catch.hpp>
#include <fmt/format.h>

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

/// Runs `script` in a sandbox (in_sandbox) with `files` written beside it.
inline Run in_sandbox(const LabFiles& files, const std::string& script) {
  TempDir dir;
  std::string vars;
  for (const auto& [var, text] : files) vars += var + "=" + dir.write(var + ".toml", text) + "\n";
  return in_sandbox(vars + script);
}

/// The script ran to its end (exit 0) and printed exactly `want`; what it printed is shown
/// when not.
inline void check_prints(const Run& r, const std::string& want) {
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == want);
}

}  // namespace topo::test
