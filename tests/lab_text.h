// Test helpers: a lab given as inline TOML, and its errors as "line:col: message" lines.
#pragma once

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "parser/load.h"

namespace topo::test {

// A test that uses topo::test uses topo's own names too: `using namespace topo::test` is enough.
using namespace topo;

inline std::vector<std::string> error_lines(const LoadedLab& loaded) {
  std::vector<std::string> out;
  for (const Diagnostic& d : loaded.errors)
    out.push_back(fmt::format("{}:{}: {}", d.pos.line, d.pos.column, d.message));
  return out;
}

/// The errors of `toml`, in file order. Tests compare them whole, so an extra error fails.
inline std::vector<std::string> errors(const std::string& toml) { return error_lines(load_lab_text("lab.toml", toml)); }

/// The lab of `toml`, which must be valid (the test fails with the errors otherwise).
inline Lab lab(const std::string& toml) {
  LoadedLab loaded = load_lab_text("lab.toml", toml);
  INFO(loaded.report());
  REQUIRE(loaded.ok());
  return *loaded.lab;
}

using Lines = std::vector<std::string>;

}  // namespace topo::test
