// topo plan FILE: read the kernel, compare it with the lab, print the ordered change plan.
// Changes nothing.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/machine_option.h"
#include "executor/privilege.h"
#include "executor/run.h"
#include "parser/load.h"
#include "planner/expected.h"
#include "planner/plan.h"
#include "planner/render_json.h"
#include "planner/render_shell.h"
#include "planner/render_text.h"

namespace topo::cli {
namespace {

struct PlanOptions {
  std::string file;
  std::string format = "text";
  bool detailed_exitcode = false;
  std::string machine;
};

int run(const PlanOptions& o) {
  LoadedLab loaded = load_lab_file(o.file);
  if (!loaded.ok()) {
    fmt::print(stderr, "{}", loaded.report());
    return kExitFailed;
  }
  if (int code = narrow_to_machine(loaded, o.machine)) return code;
  require_capabilities("plan", {sys_admin_to_enter_namespaces(), net_admin_to_read_nftables()});
  const Lab& lab = *loaded.lab;
  State expected = expected_state(lab);
  Plan plan = plan_kernel(expected, lab.name.value);
  if (o.format == "json") {
    fmt::print("{}", plan_json(plan, lab.name.value));
  } else if (o.format == "shell") {
    if (!plan.conflicts.empty()) {
      for (const Conflict& c : plan.conflicts) fmt::print(stderr, "topo: conflict in {}: {}\n", c.netns, c.message);
      return kExitFailed;  // a script that stops halfway is what topo exists to avoid
    }
    fmt::print("{}", plan_shell(plan, expected, lab.name.value));
  } else {
    fmt::print("{}", plan_text(plan));
  }
  if (!plan.conflicts.empty()) return kExitFailed;
  return o.detailed_exitcode && !plan.steps.empty() ? kExitChanges : kExitOk;
}

}  // namespace

void register_plan(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<PlanOptions>();
  CLI::App* sub =
      app.add_subcommand("plan",
                         "Read the kernel, compare it with the lab file, and print the ordered changes that\n"
                         "apply would make. Changes nothing.");
  sub->add_option("file", opts->file, "Lab file (TOML)")->required()->type_name("FILE");
  sub->add_option("--format", opts->format, "text (default), json, or shell (ip commands for bash)")
      ->check(CLI::IsMember({"text", "json", "shell"}))
      ->type_name("FORMAT");
  add_machine_option(*sub, opts->machine);
  sub->add_flag("--detailed-exitcode", opts->detailed_exitcode,
                "Exit 2 when changes are pending (0: none, 1: error or conflict)");
  sub->footer(
      "Symbols: + create, ~ modify in place, -/+ delete and create again, - delete.\n"
      "Anything in the way that is not the lab's (no topo mark) is a conflict: exit 1.\n"
      "Exit status: 0 success, 1 invalid lab, kernel error or conflict, 2 with\n"
      "--detailed-exitcode: changes pending, 64 bad usage.\n"
      "Examples: topo plan lab.toml\n"
      "          topo plan --format shell lab.toml | bash");
  sub->callback([opts, &exit_code] { exit_code = run(*opts); });
}

}  // namespace topo::cli
