// topo show FILE | --lab NAME: the applied lab as the kernel has it, per namespace.
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/machine_option.h"
#include "executor/privilege.h"
#include "executor/run.h"
#include "parser/load.h"
#include "parser/names.h"
#include "planner/expected.h"
#include "planner/render_show.h"

namespace topo::cli {
namespace {

struct ShowOptions {
  std::string file;
  std::string lab;
  std::string format = "text";
  std::string machine;
};

// Without the file: why the lab is not applied, or "" when it is, that is when a namespace
// or a link carries its mark, or its nftables table is there.
std::string nothing_marked(const State& view, const std::string& lab) {
  std::string mark = ownership_mark(lab);
  for (const auto& [name, ns] : view.namespaces)
    if (ns.mark == mark || !ns.links.empty() || ns.nat) return "";
  return fmt::format("no namespace or link carries its mark ({})", mark);
}

int run(const ShowOptions& o) {
  require_capabilities("show", {sys_admin_to_enter_namespaces(), net_admin_to_read_nftables()});
  State expected;
  std::string name = o.lab;
  std::optional<LoadedLab> loaded;
  if (!o.file.empty()) {
    loaded = load_lab_file(o.file);
    if (!loaded->ok()) {
      fmt::print(stderr, "{}", loaded->report());
      return kExitFailed;
    }
    if (int code = narrow_to_machine(*loaded, o.machine)) return code;
    name = loaded->lab->name.value;
    expected = expected_state(*loaded->lab);
  } else if (name.empty()) {
    fmt::print(stderr, "topo show: give the lab file or --lab NAME\n");
    return kExitUsage;
  } else if (std::string why = check_lab_name(name); !why.empty()) {
    fmt::print(stderr, "topo show: --lab {}: {}\n", name, why);
    return kExitUsage;
  }
  // Without the file, the lab's namespaces are found by their marks (adopted ones are not).
  State view = lab_now(expected, name);
  std::string why = loaded ? not_applied(*loaded->lab) : nothing_marked(view, name);
  if (!why.empty()) {
    fmt::print(stderr, "topo show: lab '{}' is not applied: {}{}\n", name, why,
               loaded ? fmt::format("; run topo apply {} first", o.file) : "");
    return kExitNotApplied;
  }
  fmt::print("{}", o.format == "json" ? show_json(view, name) : show_text(view, name));
  return kExitOk;
}

}  // namespace

void register_show(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ShowOptions>();
  CLI::App* sub = app.add_subcommand("show",
                                     "Print the applied lab as the kernel has it: per namespace its interfaces (kind,\n"
                                     "peer, master, state, mtu), addresses, routes and NAT table.");
  auto* file = sub->add_option("file", opts->file, "Lab file (TOML): names the lab")->type_name("FILE");
  auto* lab = sub->add_option("--lab", opts->lab, "The lab's name, without its file")->type_name("NAME");
  file->excludes(lab);
  add_machine_option(*sub, opts->machine)->needs(file);
  sub->add_option("--format", opts->format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT");
  sub->footer(
      "In the namespaces the lab made, everything; in host (and adopted namespaces) only the\n"
      "lab's links, its routes and those through its links, and its NAT table.\n"
      "Exit status: 0 shown, 1 invalid lab or kernel error, 4 the lab is not applied, 64 bad\n"
      "usage.\n"
      "Examples: topo show topologies/bridge.toml\n"
      "          topo show --lab bridge --format json");
  sub->callback([opts, &exit_code] { exit_code = run(*opts); });
}

}  // namespace topo::cli
