// topo expand FILE: the lab lowered to primitives, as a lab file.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "parser/lab_toml.h"
#include "parser/load.h"

namespace topo::cli {

void register_expand(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("expand",
                                     "Print the lab lowered to primitives ([[network]], count and publish made into\n"
                                     "bridges, veths, routes, sysctls and NAT rules), as a lab file.");
  sub->add_option("file", *file, "Lab file (TOML)")->required()->type_name("FILE");
  sub->footer(
      "The output is a valid lab file of the same lab: applying it makes the same kernel state\n"
      "as applying FILE. Comments name the line of FILE each table comes from.\n"
      "Exit status: 0 on success, 1 when the lab is invalid.\n"
      "Example: topo expand topologies/networks.toml > expanded.toml");
  sub->callback([file, &exit_code] {
    LoadedLab loaded = load_lab_file(*file);
    if (!loaded.ok()) {
      fmt::print(stderr, "{}", loaded.report());
      exit_code = kExitFailed;
      return;
    }
    fmt::print("{}", lab_toml(*loaded.lab, loaded.file.path()));
    exit_code = kExitOk;
  });
}

}  // namespace topo::cli
