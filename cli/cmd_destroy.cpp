// topo destroy FILE | --lab NAME: remove everything the lab owns, and nothing else.
#include <fmt/format.h>

#include <memory>

#include "cli/carry_out.h"
#include "cli/commands.h"
#include "cli/machine_option.h"
#include "parser/load.h"
#include "parser/names.h"
#include "planner/expected.h"

namespace topo::cli {
namespace {

struct DestroyOptions {
  std::string file;
  std::string lab;
  bool no_wait = false;
  CarryOut::Output output = CarryOut::Output::normal;
  std::string machine;
};

}  // namespace

void register_destroy(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<DestroyOptions>();
  CLI::App* sub = app.add_subcommand("destroy",
                                     "Remove every namespace, link and route the lab owns (found by its marks in the\n"
                                     "kernel), and nothing else.");
  auto* file = sub->add_option("file", opts->file, "Lab file (TOML): names the lab")->type_name("FILE");
  auto* lab = sub->add_option("--lab", opts->lab, "The lab's name, when the file is gone")->type_name("NAME");
  file->excludes(lab);
  add_machine_option(*sub, opts->machine)->needs(file);
  sub->add_flag("--no-wait", opts->no_wait, "Fail at once when another apply or destroy of the lab runs");
  add_output_flags(*sub, opts->output);
  sub->footer(
      "Exit status: 0 destroyed (or nothing to do), 1 error (rolled back), 64 bad usage,\n"
      "3 a failed step whose rollback failed too.\n"
      "Examples: topo destroy topologies/bridge.toml\n"
      "          topo destroy --lab web");
  sub->callback([opts, &exit_code] {
    std::string name = opts->lab;
    if (!opts->file.empty()) {
      LoadedLab loaded = load_lab_file(opts->file);
      if (!loaded.ok()) {
        fmt::print(stderr, "{}", loaded.report());
        exit_code = kExitFailed;
        return;
      }
      // What is the lab's here is found by its marks: a machine given is only checked, and
      // none need be found (a host whose address changed still destroys what it has).
      if (!opts->machine.empty() && (exit_code = narrow_to_machine(loaded, opts->machine))) return;
      name = loaded.lab->name.value;
    } else if (name.empty()) {
      fmt::print(stderr, "topo destroy: give the lab file or --lab NAME\n");
      exit_code = kExitUsage;
      return;
    } else if (std::string why = check_lab_name(name); !why.empty()) {
      fmt::print(stderr, "topo destroy: --lab {}: {}\n", name, why);
      exit_code = kExitUsage;
      return;
    }
    exit_code = carry_out(destroyed_state(), {name, "destroy", !opts->no_wait, opts->output});
  });
}

}  // namespace topo::cli
