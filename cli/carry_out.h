// What apply and destroy share: read the kernel, plan, refuse on conflicts, run the plan as
// a transaction, and report — the failed step, the kernel's reason, and whether the kernel
// is as it was.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "planner/state.h"

namespace topo::cli {

inline constexpr int kExitRollbackFailed = 3;  // an undo failed too: something is left behind

struct CarryOut {
  std::string lab;
  std::string verb;  // "apply" or "destroy", for messages
  bool wait = true;  // for another run of the same lab; false: fail at once
  enum class Output { normal, verbose, quiet } output = Output::normal;
};

/// --verbose / --quiet on apply and destroy.
void add_output_flags(CLI::App& sub, CarryOut::Output& output);

/// Makes the kernel match `expected` for the lab. Returns the exit code.
int carry_out(State expected, const CarryOut& how);

}  // namespace topo::cli
