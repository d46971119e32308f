// topo apply FILE: make the kernel match the lab, all or nothing.
#include <fmt/format.h>

#include <memory>

#include "cli/carry_out.h"
#include "cli/commands.h"
#include "cli/machine_option.h"
#include "parser/load.h"
#include "planner/expected.h"

namespace topo::cli {

void register_apply(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("apply",
                                     "Make the kernel match the lab file: the plan's steps in order; if one fails,\n"
                                     "every step already done is undone.");
  auto no_wait = std::make_shared<bool>(false);
  auto test = std::make_shared<bool>(false);
  auto output = std::make_shared<CarryOut::Output>(CarryOut::Output::normal);
  auto machine = std::make_shared<std::string>();
  sub->add_option("file", *file, "Lab file (TOML)")->required()->type_name("FILE");
  add_machine_option(*sub, *machine);
  sub->add_flag("--no-wait", *no_wait, "Fail at once when another apply or destroy of the lab runs");
  add_output_flags(*sub, *output);
  sub->add_flag("--test", *test, "Then run the lab's [[expect]] entries, as topo test does");
  sub->footer(
      "Refuses, changing nothing, when anything in the way is not the lab's (see topo plan).\n"
      "Exit status: 0 applied (or nothing to do), 1 invalid lab, conflict, or a failed step\n"
      "rolled back, 64 bad usage, 3 a failed step whose rollback failed too (what is left is\n"
      "printed). With --test, once applied: topo test's exit status.\n"
      "Example: topo apply topologies/bridge.toml");
  sub->callback([file, no_wait, output, test, machine, &exit_code] {
    LoadedLab loaded = load_lab_file(*file);
    if (!loaded.ok()) {
      fmt::print(stderr, "{}", loaded.report());
      exit_code = kExitFailed;
      return;
    }
    if ((exit_code = narrow_to_machine(loaded, *machine))) return;
    exit_code = carry_out(expected_state(*loaded.lab), {loaded.lab->name.value, "apply", !*no_wait, *output});
    if (exit_code == kExitOk && *test) exit_code = test_lab(loaded, kDefaultProbeJobs);
  });
}

}  // namespace topo::cli
