// Each subcommand registers itself on the CLI11 app; its callback leaves the exit code in
// `exit_code`. Exit codes: 0 success, 1 the lab is invalid or the work failed, 2 bad usage.
#pragma once

#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "parser/load.h"

namespace topo::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
// Each code means one thing (docs/cli.md): 2 is Terraform's "changes pending", which CI
// scripts test for; usage errors are sysexits.h's EX_USAGE.
inline constexpr int kExitChanges = 2;     // plan --detailed-exitcode: changes pending
inline constexpr int kExitNotApplied = 4;  // test, show: the lab is not applied
inline constexpr int kExitUsage = 64;      // an unknown option, a missing argument

inline constexpr size_t kDefaultProbeJobs = 32;

void register_validate(CLI::App& app, int& exit_code);
void register_graph(CLI::App& app, int& exit_code);
void register_expand(CLI::App& app, int& exit_code);
void register_plan(CLI::App& app, int& exit_code);
void register_apply(CLI::App& app, int& exit_code);
void register_destroy(CLI::App& app, int& exit_code);
void register_test(CLI::App& app, int& exit_code);
void register_show(CLI::App& app, int& exit_code);
/// `command`: from take_exec_command; `files`: the command's open-files limit.
void register_exec(CLI::App& app, int& exit_code, const rlimit& files, std::vector<std::string> command);
/// For `topo exec NS [--] CMD...`: takes the command's words off the end of argv (argc is
/// cut to end at NS) and returns them, so that CLI11 never reads them: they are the
/// command's, options included. Returns nothing, and leaves argc, for other commands.
std::vector<std::string> take_exec_command(int& argc, char** argv);
void register_list(CLI::App& app, int& exit_code);
void register_machines(CLI::App& app, int& exit_code);
void register_completion(CLI::App& app, int& exit_code);

/// `topo test`'s work, shared with `topo apply --test`: the exit code.
int test_lab(const LoadedLab& loaded, size_t jobs);

}  // namespace topo::cli
