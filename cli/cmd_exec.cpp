// topo exec NS -- CMD ARGS...: run a command inside a lab namespace (executor/exec_netns.h).
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "executor/exec_netns.h"
#include "executor/labs.h"
#include "executor/privilege.h"

namespace topo::cli {
namespace {

struct ExecOptions {
  std::string netns;
  std::vector<std::string> command;
  rlimit files{};  // the command's open-files limit
};

int run(const ExecOptions& o) {
  if (o.command.empty()) {
    fmt::print(stderr, "topo exec: give the command after --, as in topo exec {} -- ip addr\n", o.netns);
    return kExitUsage;
  }
  require_capabilities("exec", {sys_admin_to_exec()});
  std::string lab = lab_of_namespace(o.netns);
  if (lab.empty()) {
    fmt::print(stderr, "topo exec: namespace '{}' is not a lab's (its lo has no topo: mark); use ip netns exec\n",
               o.netns);
    return kExitFailed;
  }
  std::fflush(stdout);
  return exec_in_netns(o.netns, o.command, o.files);
}

}  // namespace

void register_exec(CLI::App& app, int& exit_code, const rlimit& files) {
  auto opts = std::make_shared<ExecOptions>();
  opts->files = files;
  CLI::App* sub = app.add_subcommand(
      "exec", "Run a command inside a lab namespace, with its /etc/netns/NS files over /etc, as\n"
              "ip netns exec does.");
  sub->add_option("netns", opts->netns, "A namespace a lab made (see topo list)")->required()->type_name("NS");
  sub->add_option("command", opts->command, "The command and its arguments, after --")->type_name("CMD...");
  sub->footer(
      "Exit status: the command's own (topo becomes the command); 127 when it is not found,\n"
      "126 when it cannot be run; 1 when NS is not a lab's namespace; 2 bad usage.\n"
      "Example: topo exec web -- ping -c1 172.18.0.3");
  sub->callback([opts, &exit_code] { exit_code = run(*opts); });
}

}  // namespace topo::cli
