// Each subcommand registers itself on the CLI11 app; its callback leaves the exit code in
// `exit_code`. Exit codes: 0 success, 1 the lab is invalid or the work failed, 2 bad usage.
#pragma once

#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <cstddef>

#include "parser/load.h"

namespace topo::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitChanges = 2;  // plan --detailed-exitcode: changes pending
inline constexpr int kExitNotApplied = 2;  // test: the lab is not applied

inline constexpr size_t kDefaultProbeJobs = 32;

void register_validate(CLI::App& app, int& exit_code);
void register_graph(CLI::App& app, int& exit_code);
void register_plan(CLI::App& app, int& exit_code);
void register_apply(CLI::App& app, int& exit_code);
void register_destroy(CLI::App& app, int& exit_code);
void register_test(CLI::App& app, int& exit_code);
void register_show(CLI::App& app, int& exit_code);
void register_exec(CLI::App& app, int& exit_code, const rlimit& files);  // files: exec's open-files limit
void register_list(CLI::App& app, int& exit_code);
void register_completion(CLI::App& app, int& exit_code);

/// `topo test`'s work, shared with `topo apply --test`: the exit code.
int test_lab(const LoadedLab& loaded, size_t jobs);

}  // namespace topo::cli
