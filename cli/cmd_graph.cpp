// topo graph FILE: the lab's graph as the file describes it, grouped by namespace.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "parser/describe.h"
#include "parser/graph.h"
#include "parser/load.h"

namespace topo::cli {

void register_graph(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  CLI::App* sub =
      app.add_subcommand("graph", "Print the lab's namespaces, interfaces, routes and NAT as the file describes them.");
  sub->add_option("file", *file, "Lab file (TOML)")->required()->type_name("FILE");
  sub->add_option("--format", *format, "text (default), dot (Graphviz) or mermaid")
      ->check(CLI::IsMember({"text", "dot", "mermaid"}))
      ->type_name("FORMAT");
  sub->footer(
      "Each namespace is listed with what the lab puts in it; a veth end names its peer as\n"
      "NETNS/NAME. dot and mermaid draw namespaces as boxes of interfaces (names, kinds,\n"
      "addresses), joined by their veths, bridge ports, underlays and parents; a network\n"
      "is one node, its members joined to it.\n"
      "Exit status: 0 on success, 1 when the lab is invalid.\n"
      "Examples: topo graph topologies/bridge.toml\n"
      "          topo graph --format dot topologies/router.toml | dot -Tsvg > router.svg");
  sub->callback([file, format, &exit_code] {
    LoadedLab loaded = load_lab_file(*file);
    if (!loaded.ok()) {
      fmt::print(stderr, "{}", loaded.report());
      exit_code = kExitFailed;
      return;
    }
    const Lab& lab = *loaded.lab;
    fmt::print("{}", *format == "dot" ? graph_dot(lab) : *format == "mermaid" ? graph_mermaid(lab) : describe(lab));
    exit_code = kExitOk;
  });
}

}  // namespace topo::cli
