// topo expand FILE: the lab lowered to primitives, as a lab file.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "lower/machines.h"
#include "parser/lab_toml.h"
#include "parser/load.h"

namespace topo::cli {

namespace {

// Over several machines each slice is a lab file of its own: the one --machine names, or
// all of them in turn, each under a comment that names its machine.
std::string expanded(const LoadedLab& loaded, const std::string& machine, int& exit_code) {
  const Lab& lab = *loaded.lab;
  MachineChoice choice = choose_machine(lab, machine, {});
  if (!machine.empty() && !choice.error.empty()) {
    fmt::print(stderr, "topo: {}\n", choice.error);
    exit_code = kExitUsage;
    return "";
  }
  exit_code = kExitOk;
  if (lab.machines.empty()) return lab_toml(lab, loaded.file.path());
  if (!machine.empty()) return lab_toml(slice(lab, machine), loaded.file.path());
  std::string out;
  for (const Machine& m : lab.machines)
    out += fmt::format("{}# ---- machine {} ({}): topo expand --machine {} ----\n{}", out.empty() ? "" : "\n",
                       m.name.value, m.address.value, m.name.value,
                       lab_toml(slice(lab, m.name.value), loaded.file.path()));
  return out;
}

}  // namespace

void register_expand(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto machine = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("expand",
                                     "Print the lab lowered to primitives ([[network]], count and publish made into\n"
                                     "bridges, veths, routes, sysctls and NAT rules), as a lab file.");
  sub->add_option("file", *file, "Lab file (TOML)")->required()->type_name("FILE");
  sub->add_option("--machine", *machine,
                  "In a lab over several [[machine]]s: print that machine's slice (default: each\n"
                  "machine's in turn)")
      ->type_name("NAME");
  sub->footer(
      "The output is a valid lab file of the same lab: applying it makes the same kernel state\n"
      "as applying FILE. Comments name the line of FILE each table comes from.\n"
      "Exit status: 0 on success, 1 when the lab is invalid.\n"
      "Example: topo expand topologies/networks.toml > expanded.toml");
  sub->callback([file, machine, &exit_code] {
    LoadedLab loaded = load_lab_file(*file);
    if (!loaded.ok()) {
      fmt::print(stderr, "{}", loaded.report());
      exit_code = kExitFailed;
      return;
    }
    fmt::print("{}", expanded(loaded, *machine, exit_code));
  });
}

}  // namespace topo::cli
