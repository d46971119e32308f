// topo validate FILE...: parse and check lab files, report every problem, change nothing.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "parser/load.h"

namespace topo::cli {
namespace {

struct ValidateOptions {
  std::vector<std::string> files;
  bool quiet = false;
};

std::string plural(size_t n, std::string_view word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

std::string summary(const Lab& lab) {
  size_t links = lab.interfaces.size();
  std::string out =
      fmt::format("lab '{}': {}, {}, {}, {}", lab.name.value, plural(lab.netns.size(), "namespace"),
                  plural(links, "interface"), plural(lab.routes.size(), "route"), plural(lab.nats.size(), "NAT rule"));
  if (!lab.filters.empty()) out += ", " + plural(lab.filters.size(), "filter rule");
  return out;
}

int run(const ValidateOptions& o) {
  int code = kExitOk;
  for (const std::string& path : o.files) {
    LoadedLab loaded = load_lab_file(path);
    const std::string& name = loaded.file.path();  // "<stdin>" for "-"
    if (loaded.ok()) {
      if (!o.quiet) fmt::print("{}: ok ({})\n", name, summary(*loaded.lab));
      continue;
    }
    code = kExitFailed;
    fmt::print(stderr, "{}", loaded.report());
    if (!o.quiet) fmt::print(stderr, "{}: {}\n", name, plural(loaded.errors.size(), "error"));
  }
  return code;
}

}  // namespace

void register_validate(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ValidateOptions>();
  CLI::App* sub = app.add_subcommand("validate", "Check lab files and report every problem at once; changes nothing.");
  sub->add_option("files", opts->files, "Lab files (TOML); - reads standard input")->required()->type_name("FILE...");
  sub->add_flag("-q,--quiet", opts->quiet, "Print only the errors, not the 'ok' lines");
  sub->footer(
      "Exit status: 0 when every file is valid, 1 when any is not, 64 on bad usage.\n"
      "Example: topo validate topologies/*.toml");
  sub->callback([opts, &exit_code] { exit_code = run(*opts); });
}

}  // namespace topo::cli
