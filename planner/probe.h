// `topo test` without the kernel: the lab's [[expect]] entries become probes, a Prober
// (executor/prober.h for the real one, a fake in tests) answers each, in parallel, and the
// answers become a table and an exit code. Whether a probe "reaches" is the prober's
// business (docs/format.md says what it means for each protocol); holding is this file's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parser/model.h"

namespace topo {

/// One [[expect]] entry, resolved: where it runs and what it tries to reach.
struct Probe {
  std::string from;       // "host" or a namespace of the lab
  std::string from_path;  // its namespace file; "" for host (topo's own namespace)
  IpAddress to;
  std::string to_label;  // "10.0.0.2 (ns2)" when `to` named a namespace, else the address
  ProbeProto proto = ProbeProto::icmp;
  int port = 0;                           // tcp, udp
  double timeout = kDefaultProbeTimeout;  // seconds
  bool want_reach = true;
  SourcePos pos;      // the [[expect]] header
  std::string group;  // Expect::group: "* -> *" for one of an entry's many, "" otherwise

  /// "ns1 -> 10.0.0.2 (ns2) icmp" or "host -> 10.0.0.1 tcp/80"
  std::string describe() const;
};

/// What a prober found.
struct ProbeResult {
  bool reached = false;
  std::string detail;  // "reply", "connected", "no reply", "refused", "network unreachable"...
  double seconds = 0;  // how long the probe took
};

/// Answers probes; called from several threads at once, one probe per call.
class Prober {
 public:
  virtual ~Prober() = default;
  virtual ProbeResult probe(const Probe& p) = 0;
};

/// The lab's expectations in file order, each with its namespace's file as apply makes it
/// (adopted ones by pid or path) and `to` resolved to an address.
std::vector<Probe> probes_of(const Lab& lab);

/// Runs every probe on up to `jobs` threads; results in the probes' order. A prober that
/// throws gives that probe a failed result with the exception's text.
std::vector<ProbeResult> run_probes(const std::vector<Probe>& probes, Prober& prober, size_t jobs);

/// The results as a table, one line per expectation, with "ok" or "FAIL" first and the
/// time each took last; `times` false prints "-" for the times (for exact comparisons).
std::string results_table(const std::vector<Probe>& probes, const std::vector<ProbeResult>& results, bool times = true);

/// One line per expectation that does not hold, naming it with its place in the file:
/// "lab.toml:40:1: ns1 -> 10.0.0.2 (ns2) icmp: expected to reach, got no reply".
std::string failures(const std::string& file, const std::vector<Probe>& probes,
                     const std::vector<ProbeResult>& results);

/// How many expectations hold.
size_t holding(const std::vector<Probe>& probes, const std::vector<ProbeResult>& results);

}  // namespace topo
