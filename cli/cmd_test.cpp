// topo test FILE: run the lab's [[expect]] entries against the applied lab, in parallel,
// and answer with a table and an exit code (0 all hold, 1 one fails, 2 not applied).
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli/commands.h"
#include "cli/machine_option.h"
#include "executor/privilege.h"
#include "executor/prober.h"
#include "executor/run.h"
#include "parser/load.h"
#include "planner/probe.h"

namespace topo::cli {
namespace {

// Long enough for duplicate address detection on a busy machine (1 s of random delay, 1 s
// of probing, by the kernel's defaults), short enough not to hang on a strange sysctl.
constexpr double kMaxAddressWait = 10;

struct TestOptions {
  std::string file;
  size_t jobs = kDefaultProbeJobs;
  std::string machine;
};

}  // namespace

int test_lab(const LoadedLab& loaded, size_t jobs) {
  const Lab& lab = *loaded.lab;
  std::vector<Probe> probes = probes_of(lab);
  std::vector<Capability> needed{sys_admin_to_enter_namespaces(), net_admin_to_read_nftables()};
  if (std::any_of(probes.begin(), probes.end(), [](const Probe& p) { return p.proto == ProbeProto::icmp; }))
    needed.push_back(net_raw_to_probe());
  require_capabilities("test", needed);
  if (std::string why = not_applied(lab); !why.empty()) {
    fmt::print(stderr, "topo test: lab '{}' is not applied: {}; run topo apply {} first\n", lab.name.value, why,
               loaded.file.path());
    return kExitNotApplied;
  }
  if (lab.expects.empty()) {
    fmt::print("Lab '{}' has no [[expect]] entries: nothing to test.\n", lab.name.value);
    return kExitOk;
  }
  std::vector<std::string> paths{""};  // host, then where probes start and where they go
  for (const Probe& p : probes)
    if (std::find(paths.begin(), paths.end(), p.from_path) == paths.end()) paths.push_back(p.from_path);
  for (const Netns& n : lab.netns)
    if (!n.adopted() && std::find(paths.begin(), paths.end(), "/run/netns/" + n.name.value) == paths.end())
      paths.push_back("/run/netns/" + n.name.value);
  // Only IPv6 has tentative addresses (duplicate address detection, a second or two after
  // a link gets carrier): a lab probed over IPv4 alone has nothing to wait for.
  if (std::any_of(probes.begin(), probes.end(), [](const Probe& p) { return p.to.family == Family::v6; }))
    wait_for_addresses(paths, kMaxAddressWait);
  KernelProber prober;
  std::vector<ProbeResult> results = run_probes(probes, prober, jobs);
  fmt::print("{}", results_table(probes, results));
  std::fflush(stdout);
  std::string failed = failures(loaded.file.path(), probes, results);
  fmt::print(stderr, "{}", failed);
  return failed.empty() ? kExitOk : kExitFailed;
}

void register_test(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<TestOptions>();
  CLI::App* sub =
      app.add_subcommand("test",
                         "Check the applied lab against its [[expect]] entries: who reaches whom, over ICMP,\n"
                         "TCP or UDP, probed from inside the namespaces, in parallel.");
  sub->add_option("file", opts->file, "Lab file (TOML)")->required()->type_name("FILE");
  add_machine_option(*sub, opts->machine);
  sub->add_option("-j,--jobs", opts->jobs, "Probes run at once (default 32)")
      ->check(CLI::Range(1, 1024))
      ->type_name("N");
  sub->footer(
      "Prints one line per expectation (ok or FAIL, what was expected, what was found, how\n"
      "long it took) and names each failed one, file:line:col, on stderr.\n"
      "Exit status: 0 every expectation holds, 1 one fails (or the lab is invalid), 4 the lab\n"
      "is not applied, 64 bad usage.\n"
      "Example: topo test topologies/router.toml");
  sub->callback([opts, &exit_code] {
    LoadedLab loaded = load_lab_file(opts->file);
    if (!loaded.ok()) {
      fmt::print(stderr, "{}", loaded.report());
      exit_code = kExitFailed;
      return;
    }
    if ((exit_code = narrow_to_machine(loaded, opts->machine))) return;
    exit_code = test_lab(loaded, opts->jobs);
  });
}

}  // namespace topo::cli
