// topo graph FILE: the lab's graph as the file describes it, grouped by namespace.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "parser/describe.h"
#include "parser/load.h"

namespace topo::cli {

void register_graph(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand(
      "graph", "Print the lab's namespaces, interfaces, routes and NAT as the file describes them.");
  sub->add_option("file", *file, "Lab file (TOML)")->required()->type_name("FILE");
  sub->footer(
      "Each namespace is listed with what the lab puts in it; a veth end names its peer as\n"
      "NETNS/NAME. Exit status: 0 on success, 1 when the lab is invalid.\n"
      "Example: topo graph topologies/bridge.toml");
  sub->callback([file, &exit_code] {
    LoadedLab loaded = load_lab_file(*file);
    if (!loaded.ok()) {
      fmt::print(stderr, "{}", loaded.report());
      exit_code = kExitFailed;
      return;
    }
    fmt::print("{}", describe(*loaded.lab));
    exit_code = kExitOk;
  });
}

}  // namespace topo::cli
