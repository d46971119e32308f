// topo exec NS [--] CMD ARGS...: run a command inside a lab namespace (executor/exec_netns.h).
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string_view>

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
    fmt::print(stderr, "topo exec: give the command after the namespace, as in topo exec {} ip addr\n", o.netns);
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

std::vector<std::string> take_exec_command(int& argc, char** argv) {
  // The subcommand is the first word that is not an option (topo's own are --help and
  // --version); exec's NS the first word after it that is not an option either.
  int at = 1;
  while (at < argc && argv[at][0] == '-') ++at;
  if (at == argc || std::string_view(argv[at]) != "exec") return {};
  ++at;
  while (at < argc && argv[at][0] == '-') ++at;
  if (at == argc) return {};
  int start = at + 1;  // after NS
  if (start < argc && std::string_view(argv[start]) == "--") ++start;
  std::vector<std::string> command(argv + start, argv + argc);
  argc = std::min(argc, at + 1);
  return command;
}

void register_exec(CLI::App& app, int& exit_code, const rlimit& files, std::vector<std::string> command) {
  auto opts = std::make_shared<ExecOptions>();
  opts->files = files;
  opts->command = std::move(command);
  CLI::App* sub =
      app.add_subcommand("exec",
                         "Run a command inside a lab namespace, with its /etc/netns/NS files over /etc, as\n"
                         "ip netns exec does.");
  sub->add_option("netns", opts->netns, "A namespace a lab made (see topo list)")->required()->type_name("NS");
  sub->footer(
      "Everything after NS is the command and its arguments, options included; a -- right\n"
      "after NS is allowed, not needed.\n"
      "Exit status: the command's own (topo becomes the command); 127 when it is not found,\n"
      "126 when it cannot be run; 1 when NS is not a lab's namespace; 64 bad usage.\n"
      "Example: topo exec web ping -c1 172.18.0.3");
  sub->callback([opts, &exit_code] { exit_code = run(*opts); });
}

}  // namespace topo::cli
