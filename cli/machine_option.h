// --machine NAME on the commands that work on the kernel: which [[machine]]'s slice of a lab
// over several machines they plan, apply, destroy, show or test (docs/machines.md).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "parser/load.h"

namespace topo::cli {

CLI::Option* add_machine_option(CLI::App& sub, std::string& machine);

/// Narrows `loaded.lab` to this machine's slice: the one `--machine` names, or the one
/// whose address this host has; a lab without machines is left whole. kExitOk, or, with
/// the reason printed, kExitUsage for a --machine that is none of the lab's and
/// kExitFailed when no machine (or several) has an address of this host.
int narrow_to_machine(LoadedLab& loaded, const std::string& machine);

}  // namespace topo::cli
