// topo machines FILE: the machines of a lab over several, with the size of each one's
// slice; --format ansible prints them as an Ansible inventory (deploy/ansible/lab.yml).
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "lower/machines.h"
#include "parser/load.h"

namespace topo::cli {
namespace {

struct MachinesOptions {
  std::string file;
  std::string format = "text";
};

std::string counted(size_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

std::string text(const Lab& lab) {
  if (lab.machines.empty())
    return fmt::format("lab '{}' has no [[machine]]: it runs where topo runs\n", lab.name.value);
  std::map<std::string, SliceSize> sizes = slice_sizes(lab);
  size_t width = 0;
  for (const Machine& m : lab.machines) width = std::max(width, m.name.value.size());
  std::string out = fmt::format("lab '{}': {}\n", lab.name.value, counted(lab.machines.size(), "machine"));
  for (const Machine& m : lab.machines) {
    const SliceSize& s = sizes[m.name.value];
    out += fmt::format("  {:<{}}  {:<15}  {}, {}, {}, {}\n", m.name.value, width, fmt::format("{}", m.address.value),
                       counted(s.namespaces, "namespace"), counted(s.interfaces, "interface"),
                       counted(s.routes, "route"), counted(s.expectations, "expectation"));
  }
  return out;
}

// INI, the inventory format every Ansible reads: a group named after the lab.
std::string ansible(const Lab& lab) {
  std::string out = fmt::format("[{}]\n", lab.name.value);
  for (const Machine& m : lab.machines) out += fmt::format("{} ansible_host={}\n", m.name.value, m.address.value);
  return out;
}

int run(const MachinesOptions& o) {
  LoadedLab loaded = load_lab_file(o.file);
  if (!loaded.ok()) {
    fmt::print(stderr, "{}", loaded.report());
    return kExitFailed;
  }
  const Lab& lab = *loaded.lab;
  if (o.format == "ansible" && lab.machines.empty()) {
    fmt::print(stderr, "topo machines: lab '{}' has no [[machine]] to make an inventory of\n", lab.name.value);
    return kExitFailed;
  }
  fmt::print("{}", o.format == "ansible" ? ansible(lab) : text(lab));
  return kExitOk;
}

}  // namespace

void register_machines(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<MachinesOptions>();
  CLI::App* sub = app.add_subcommand(
      "machines", "List the machines of a lab over several ([[machine]]) and the size of each one's slice.");
  sub->add_option("file", opts->file, "Lab file (TOML)")->required()->type_name("FILE");
  sub->add_option("--format", opts->format, "text (default), or ansible (an inventory, INI)")
      ->check(CLI::IsMember({"text", "ansible"}))
      ->type_name("FORMAT");
  sub->footer(
      "Each machine applies its own slice: topo apply --machine NAME FILE (docs/machines.md).\n"
      "Exit status: 0 listed, 1 invalid lab (or no machines for an inventory), 64 bad usage.\n"
      "Examples: topo machines topologies/two-machines.toml\n"
      "          topo machines --format ansible lab.toml > inventory.ini");
  sub->callback([opts, &exit_code] { exit_code = run(*opts); });
}

}  // namespace topo::cli
