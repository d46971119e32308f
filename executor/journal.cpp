#include "executor/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "executor/kernel_error.h"

namespace topo {
namespace {

void save(const LabDir& dir, const SysctlOriginals& originals, const char* file = "sysctl-originals") {
  if (originals.empty()) return dir.remove(file);
  std::string text;
  for (const auto& [where, value] : originals) text += where.first + "\t" + where.second + "\t" + value + "\n";
  dir.write(file, text);
}

void save_routes(const LabDir& dir, const std::set<RouteKey>& routes) {
  if (routes.empty()) return dir.remove("routes");
  std::string text;
  for (const auto& [netns, to, metric] : routes) text += netns + "\t" + to_string(to) + "\t" + std::to_string(metric) + "\n";
  dir.write("routes", text);
}

// Fields are tab-separated; names and sysctl values never hold tabs or newlines (the
// validator's rules), so no quoting is needed.
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, '\t');) out.push_back(f);
  return out;
}

SysctlOriginals read_originals(const LabDir& dir, const char* file) {
  SysctlOriginals out;
  std::istringstream in(dir.read(file).value_or(""));
  for (std::string line; std::getline(in, line);) {
    auto f = fields(line);
    if (f.size() == 3) out[{f[0], f[1]}] = f[2];
  }
  return out;
}

}  // namespace

Journal::Journal(const LabDir& dir)
    : dir_(dir),
      originals_(originals(dir_)),
      at_start_(originals_),
      overwritten_(overwritten(dir_)),
      overwritten_at_start_(overwritten_),
      routes_(routes(dir_)),
      routes_at_start_(routes_) {
  fd_ = dir_.open("journal", O_WRONLY | O_CREAT | O_APPEND);
}

void Journal::append(const std::string& line) {
  std::string l = line + "\n";
  if (::write(fd_.get(), l.data(), l.size()) != static_cast<ssize_t>(l.size()) || ::fdatasync(fd_.get()) != 0)
    throw KernelError("writing", dir_.path("journal"), std::strerror(errno), errno);
}

void Journal::before(const Step& step, const std::vector<std::string>& lasting) {
  // A namespace is made, or unmounted, in two moves (the file, the mount): a kill between
  // them leaves an empty file that the next run removes.
  if (std::holds_alternative<NamespaceDelta>(step.subject)) append("claim\t" + step.netns + "\tlo");
  // A batch unmounts the namespaces at its far ends while the kernel deletes it.
  std::string far_claims;
  if (step.action == Action::remove)
    for (const std::string& far : step.far_namespaces()) far_claims += "claim\t" + far + "\tlo\n";
  if (!far_claims.empty()) append(far_claims.substr(0, far_claims.size() - 1));  // one fsync
  if (step.action == Action::create) {
    if (const auto* l = std::get_if<LinkDelta>(&step.subject)) {
      append("claim\t" + step.netns + "\t" + l->after->name);
      if (step.peer) append("claim\t" + l->after->peer_netns + "\t" + l->after->peer_name);
    }
  }
  bool lasts = std::find(lasting.begin(), lasting.end(), step.netns) != lasting.end();
  if (const auto* r = std::get_if<RouteDelta>(&step.subject); r && r->after && lasts)
    if (routes_.insert({step.netns, r->after->to, r->after->metric}).second) save_routes(dir_, routes_);
  const auto* y = std::get_if<SysctlDelta>(&step.subject);
  if (!y || !y->before || !lasts) return;
  std::string value = *y->before;
  std::replace(value.begin(), value.end(), '\t', ' ');  // the kernel reads either; tabs split fields here
  if (!originals_.emplace(std::make_pair(step.netns, y->key), value).second) return;  // first value wins
  save(dir_, originals_);
}

void Journal::note_overwritten(const std::string& netns, const std::map<std::string, std::string>& values) {
  bool grew = false;
  for (const auto& [key, value] : values) grew |= overwritten_.emplace(std::make_pair(netns, key), value).second;
  if (grew) save(dir_, overwritten_, "sysctl-overwritten");
}

void Journal::undo_originals() {
  originals_ = at_start_;
  save(dir_, originals_);
  overwritten_ = overwritten_at_start_;
  save(dir_, overwritten_, "sysctl-overwritten");
  routes_ = routes_at_start_;
  save_routes(dir_, routes_);
}

void Journal::keep_routes(std::set<RouteKey> now) {
  if (now == routes_) return;
  routes_ = std::move(now);
  save_routes(dir_, routes_);
}

void Journal::close() {
  fd_ = Fd();
  dir_.remove("journal");
}

std::vector<Claim> Journal::leftovers(const LabDir& dir) {
  std::vector<Claim> out;
  std::istringstream in(dir.read("journal").value_or(""));
  for (std::string line; std::getline(in, line);) {
    auto f = fields(line);
    if (f.size() == 3 && f[0] == "claim") out.push_back({f[1], f[2]});
  }
  return out;
}

SysctlOriginals Journal::originals(const LabDir& dir) { return read_originals(dir, "sysctl-originals"); }

SysctlOriginals Journal::overwritten(const LabDir& dir) { return read_originals(dir, "sysctl-overwritten"); }

std::set<RouteKey> Journal::routes(const LabDir& dir) {
  std::set<RouteKey> out;
  std::istringstream in(dir.read("routes").value_or(""));
  for (std::string line; std::getline(in, line);) {
    auto f = fields(line);
    auto to = f.size() == 3 ? parse_prefix(f[1]) : std::nullopt;
    if (to) out.insert({f[0], *to, std::strtoll(f[2].c_str(), nullptr, 10)});
  }
  return out;
}

void Journal::forget_originals(const LabDir& dir) {
  dir.remove("sysctl-originals");
  dir.remove("sysctl-overwritten");
}

}  // namespace topo
