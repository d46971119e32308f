#include "cli/machine_option.h"

#include <fmt/format.h>

#include "cli/commands.h"
#include "executor/read_state.h"
#include "lower/machines.h"

namespace topo::cli {

CLI::Option* add_machine_option(CLI::App& sub, std::string& machine) {
  return sub
      .add_option("--machine", machine,
                  "In a lab over several [[machine]]s: the one this host is (default: the one\n"
                  "whose address is an address of this host)")
      ->type_name("NAME");
}

int narrow_to_machine(LoadedLab& loaded, const std::string& machine) {
  Lab& lab = *loaded.lab;
  std::vector<IpAddress> local;
  if (!lab.machines.empty() && machine.empty()) local = host_addresses();
  MachineChoice choice = choose_machine(lab, machine, local);
  if (!choice.error.empty()) {
    fmt::print(stderr, "topo: {}\n", choice.error);
    return machine.empty() ? kExitFailed : kExitUsage;
  }
  if (!choice.machine.empty()) lab = slice(lab, choice.machine);
  return kExitOk;
}

}  // namespace topo::cli
