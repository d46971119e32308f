#include "planner/probe.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

namespace topo {
namespace {

std::string namespace_path(const Lab& lab, const std::string& name) {
  const Netns* ns = lab.find_netns(name);
  if (!ns) return "";  // host
  if (ns->pid) return fmt::format("/proc/{}/ns/net", ns->pid->value);
  if (ns->path) return ns->path->value;
  return "/run/netns/" + name;
}

std::string proto_text(const Probe& p) {
  return p.proto == ProbeProto::icmp ? "icmp" : fmt::format("{}/{}", to_string(p.proto), p.port);
}

bool holds(const Probe& p, const ProbeResult& r) { return p.want_reach == r.reached; }

}  // namespace

std::string Probe::describe() const { return fmt::format("{} -> {} {}", from, to_label, proto_text(*this)); }

std::vector<Probe> probes_of(const Lab& lab) {
  std::vector<Probe> out;
  for (const Expect& e : lab.expects) {
    Probe p;
    p.from = e.from.value;
    p.from_path = namespace_path(lab, p.from);
    if (e.to_address) {
      p.to = *e.to_address;
      // An address as written, or a network's gateway (lower/): then its name too.
      std::string written = to_string(p.to);
      p.to_label = e.to.value == written ? written : fmt::format("{} ({})", written, e.to.value);
    } else {
      p.to = lab.first_address(e.to.value).value();  // the validator saw to it
      p.to_label = fmt::format("{} ({})", p.to, e.to.value);
    }
    p.proto = e.proto.value;
    p.port = e.port ? static_cast<int>(e.port->value) : 0;
    p.timeout = e.timeout.value;
    p.want_reach = e.reach.value;
    p.pos = e.pos;
    p.group = e.group;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<ProbeResult> run_probes(const std::vector<Probe>& probes, Prober& prober, size_t jobs) {
  std::vector<ProbeResult> results(probes.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < probes.size();) {
      try {
        results[i] = prober.probe(probes[i]);
      } catch (const std::exception& e) {
        results[i] = {false, fmt::format("error: {}", e.what()), 0};
      }
    }
  };
  size_t threads = std::clamp<size_t>(jobs, 1, std::max<size_t>(probes.size(), 1));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return results;
}

std::string results_table(const std::vector<Probe>& probes, const std::vector<ProbeResult>& results, bool times) {
  struct Row {
    std::string cells[7];
  };
  std::vector<Row> rows;
  rows.push_back({{"", "FROM", "TO", "PROTO", "EXPECT", "GOT", "TIME"}});
  for (size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    const ProbeResult& r = results[i];
    if (p.group.empty()) {
      rows.push_back(
          {{holds(p, r) ? "ok" : "FAIL", p.from, p.to_label, proto_text(p), p.want_reach ? "reach" : "no reach",
            r.detail, times ? fmt::format("{:.1f} ms", r.seconds * 1e3) : "-"}});
      continue;
    }
    // An entry with "*" is one row for all its probes (which are next to each other): how
    // many held, and the slowest; the failures are named one by one (failures()).
    size_t end = i, held = 0;
    double slowest = 0;
    for (; end < probes.size() && probes[end].pos == p.pos && probes[end].group == p.group; ++end) {
      held += holds(probes[end], results[end]);
      slowest = std::max(slowest, results[end].seconds);
    }
    size_t n = end - i;
    auto arrow = p.group.find(" -> ");
    rows.push_back({{held == n ? "ok" : "FAIL", p.group.substr(0, arrow), p.group.substr(arrow + 4), proto_text(p),
                     p.want_reach ? "reach" : "no reach", fmt::format("{} of {} held", held, n),
                     times ? fmt::format("{:.1f} ms at most", slowest * 1e3) : "-"}});
    i = end - 1;
  }
  size_t width[7] = {};
  for (const Row& row : rows)
    for (size_t c = 0; c < 7; ++c) width[c] = std::max(width[c], row.cells[c].size());
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (size_t c = 0; c < 7; ++c) line += c + 1 < 7 ? fmt::format("{:<{}}  ", row.cells[c], width[c]) : row.cells[c];
    out += line + "\n";
  }
  size_t ok = holding(probes, results);
  size_t failed = probes.size() - ok;
  out += fmt::format("{} expectation{}: {} hold{}, {} fail{}.\n", probes.size(), probes.size() == 1 ? "" : "s", ok,
                     ok == 1 ? "s" : "", failed, failed == 1 ? "s" : "");
  return out;
}

std::string failures(const std::string& file, const std::vector<Probe>& probes,
                     const std::vector<ProbeResult>& results) {
  std::string out;
  for (size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    if (holds(p, results[i])) continue;
    out += fmt::format("{}:{}:{}: expectation failed: {}: expected {}, got {}\n", file, p.pos.line, p.pos.column,
                       p.describe(), p.want_reach ? "to reach" : "not to reach", results[i].detail);
  }
  return out;
}

size_t holding(const std::vector<Probe>& probes, const std::vector<ProbeResult>& results) {
  size_t n = 0;
  for (size_t i = 0; i < probes.size(); ++i) n += holds(probes[i], results[i]);
  return n;
}

}  // namespace topo
