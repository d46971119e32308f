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

std::string read_all(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  std::string out;
  if (!fd) return out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

void write_synced(const std::string& path, const std::string& text) {
  std::string tmp = path + ".new";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0)
    throw KernelError("writing", path, std::strerror(errno), errno);
}

void save(const std::string& dir, const SysctlOriginals& originals, const char* file = "sysctl-originals") {
  std::string path = dir + "/" + file;
  if (originals.empty()) {
    ::unlink(path.c_str());
    return;
  }
  std::string text;
  for (const auto& [where, value] : originals) text += where.first + "\t" + where.second + "\t" + value + "\n";
  write_synced(path, text);
}

void save_routes(const std::string& dir, const std::set<RouteKey>& routes) {
  std::string path = dir + "/routes";
  if (routes.empty()) {
    ::unlink(path.c_str());
    return;
  }
  std::string text;
  for (const auto& [netns, to, metric] : routes) text += netns + "\t" + to_string(to) + "\t" + std::to_string(metric) + "\n";
  write_synced(path, text);
}

// Fields are tab-separated; names and sysctl values never hold tabs or newlines (the
// validator's rules), so no quoting is needed.
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, '\t');) out.push_back(f);
  return out;
}

SysctlOriginals read_originals(const std::string& path) {
  SysctlOriginals out;
  std::istringstream in(read_all(path));
  for (std::string line; std::getline(in, line);) {
    auto f = fields(line);
    if (f.size() == 3) out[{f[0], f[1]}] = f[2];
  }
  return out;
}

}  // namespace

Journal::Journal(std::string dir)
    : dir_(std::move(dir)),
      originals_(originals(dir_)),
      at_start_(originals_),
      overwritten_(overwritten(dir_)),
      overwritten_at_start_(overwritten_),
      routes_(routes(dir_)),
      routes_at_start_(routes_) {
  std::string path = dir_ + "/journal";
  fd_ = Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd_) throw KernelError("opening", path, std::strerror(errno), errno);
}

void Journal::append(const std::string& line) {
  std::string l = line + "\n";
  if (::write(fd_.get(), l.data(), l.size()) != static_cast<ssize_t>(l.size()) || ::fdatasync(fd_.get()) != 0)
    throw KernelError("writing", dir_ + "/journal", std::strerror(errno), errno);
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
  ::unlink((dir_ + "/journal").c_str());
}

std::vector<Claim> Journal::leftovers(const std::string& dir) {
  std::vector<Claim> out;
  std::istringstream in(read_all(dir + "/journal"));
  for (std::string line; std::getline(in, line);) {
    auto f = fields(line);
    if (f.size() == 3 && f[0] == "claim") out.push_back({f[1], f[2]});
  }
  return out;
}

SysctlOriginals Journal::originals(const std::string& dir) { return read_originals(dir + "/sysctl-originals"); }

SysctlOriginals Journal::overwritten(const std::string& dir) { return read_originals(dir + "/sysctl-overwritten"); }


std::set<RouteKey> Journal::routes(const std::string& dir) {
  std::set<RouteKey> out;
  std::istringstream in(read_all(dir + "/routes"));
  for (std::string line; std::getline(in, line);) {
    auto f = fields(line);
    auto to = f.size() == 3 ? parse_prefix(f[1]) : std::nullopt;
    if (to) out.insert({f[0], *to, std::strtoll(f[2].c_str(), nullptr, 10)});
  }
  return out;
}

void Journal::forget_originals(const std::string& dir) {
  ::unlink((dir + "/sysctl-originals").c_str());
  ::unlink((dir + "/sysctl-overwritten").c_str());
}

}  // namespace topo
