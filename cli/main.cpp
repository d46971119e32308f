// topo: a declarative network-lab compiler. main() alone turns errors into exit codes.
#include <fmt/format.h>

#include <exception>
#include <new>

#include "cli/commands.h"
#include "executor/open_files.h"
#include "executor/privilege.h"
#include "parser/diagnostics.h"

#ifndef TOPO_VERSION
#error "TOPO_VERSION is set by CMake"
#endif

int main(int argc, char** argv) noexcept {
  using namespace topo::cli;
  try {
    CLI::App app{
        "topo: build network labs (namespaces, bridges, veths, VXLAN, macvlan, routes,\n"
        "sysctls, NAT) from one TOML file.",
        "topo"};
    app.set_version_flag("--version", "topo " TOPO_VERSION);
    app.require_subcommand(1);
    app.footer("Run 'topo COMMAND --help' for a command's options. Docs: docs/cli.md, docs/format.md");
    int exit_code = kExitOk;
    const rlimit files = topo::raise_open_files_limit();  // a file and sockets per namespace
    register_validate(app, exit_code);
    register_graph(app, exit_code);
    register_expand(app, exit_code);
    register_plan(app, exit_code);
    register_apply(app, exit_code);
    register_destroy(app, exit_code);
    register_test(app, exit_code);
    register_show(app, exit_code);
    register_exec(app, exit_code, files, take_exec_command(argc, argv));
    register_list(app, exit_code);
    register_machines(app, exit_code);
    register_completion(app, exit_code);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      int code = app.exit(e);  // prints help, version or the usage error
      return code == 0 ? kExitOk : kExitUsage;
    }
    return exit_code;
  } catch (const topo::MissingCapability& e) {
    fmt::print(stderr, "topo: {}\n", e.what());
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "topo: error: out of memory\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "topo: error: {}\n", topo::shown(e.what()));  // may quote names the kernel gave
  }
  return kExitFailed;
}
