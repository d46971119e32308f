#include "executor/lab_record.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "executor/kernel_error.h"
#include "parser/model.h"

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
  for (const auto& [netns, to, metric] : routes)
    text += netns + "\t" + to_string(to) + "\t" + std::to_string(metric) + "\n";
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

// The host's entries live in the shared file (host_sysctls.h), the others in the lab's.
SysctlOriginals with_host(SysctlOriginals lab, const HostSysctls* host,
                          const std::map<std::string, std::string> HostSysctls::*part) {
  if (!host) return lab;
  const std::string name(kHostNetns);
  std::erase_if(lab, [&](const auto& o) { return o.first.first == name; });
  for (const auto& [key, value] : host->*part) lab[{name, key}] = value;
  return lab;
}

// `records` with the namespace of each renamed one (the first of the tuple) renamed.
template <class Records>
Records with_renames(const Records& records, const Renames& renames) {
  Records out;
  for (auto r : records) {
    auto to = renames.find(std::get<0>(r));
    if (to != renames.end()) std::get<0>(r) = to->second;
    out.insert(std::move(r));
  }
  return out;
}

SysctlOriginals with_renames(const SysctlOriginals& records, const Renames& renames) {
  SysctlOriginals out;
  for (const auto& [where, value] : records) {
    auto to = renames.find(where.first);
    out.emplace(std::pair{to != renames.end() ? to->second : where.first, where.second}, value);
  }
  return out;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat x {
  }, y{};
  return ::stat(a.c_str(), &x) == 0 && ::stat(b.c_str(), &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

}  // namespace

LabRecords LabRecords::read(const LabDir& dir, const State& expected) {
  LabRecords r;
  for (const auto& [name, path] : LabRecord::adopted(dir)) {
    if (expected.find(name)) continue;
    for (const auto& [other, ns] : expected.namespaces)
      if (ns.adopted && other != kHostNetns && same_file(path, ns.path)) {
        r.renamed[name] = other;
        break;
      }
  }
  r.originals = with_renames(LabRecord::originals(dir), r.renamed);
  r.overwritten = with_renames(LabRecord::overwritten(dir), r.renamed);
  r.routes = with_renames(LabRecord::routes(dir), r.renamed);
  return r;
}

LabRecord::LabRecord(const LabDir& dir, HostSysctls* host, const LabDir* host_dir, std::string lab,
                     const Renames& renames)
    : dir_(dir),
      host_(host_dir ? host : nullptr),
      host_dir_(host_dir),
      lab_(std::move(lab)),
      host_at_start_(host_ ? *host_ : HostSysctls{}),
      originals_(with_host(with_renames(originals(dir_), renames), host_, &HostSysctls::originals)),
      at_start_(with_host(originals(dir_), host_, &HostSysctls::originals)),
      overwritten_(with_host(with_renames(overwritten(dir_), renames), host_, &HostSysctls::overwritten)),
      overwritten_at_start_(with_host(overwritten(dir_), host_, &HostSysctls::overwritten)),
      unsaved_(originals_ != at_start_ || overwritten_ != overwritten_at_start_),
      routes_(routes(dir_)),
      routes_at_start_(routes_) {}

void LabRecord::save_originals() {
  SysctlOriginals mine = originals_, overwritten = overwritten_;
  if (host_) {
    const std::string name(kHostNetns);
    std::erase_if(mine, [&](const auto& o) { return o.first.first == name; });
    std::erase_if(overwritten, [&](const auto& o) { return o.first.first == name; });
  }
  save(dir_, mine);
  save(dir_, overwritten, "sysctl-overwritten");
  unsaved_ = false;
}

void LabRecord::before(const Step& step, const std::vector<std::string>& lasting) {
  bool lasts = std::find(lasting.begin(), lasting.end(), step.netns) != lasting.end();
  if (const auto* r = std::get_if<RouteDelta>(&step.subject); r && r->after && lasts)
    if (routes_.insert({step.netns, r->after->to, r->after->metric}).second) save_routes(dir_, routes_);
}

bool LabRecord::keep_original(const std::string& netns, const std::string& key, const std::string& value,
                              const std::string& after) {
  // A step that changes nothing (a namespace made in this run already has the value) leaves
  // nothing to put back, as when the plan had no step for it.
  if (normalize_sysctl(value) == normalize_sysctl(after)) return false;
  std::string v = value;
  std::replace(v.begin(), v.end(), '\t', ' ');  // the kernel reads either; tabs split fields here
  if (host_ && netns == kHostNetns) {
    if (!host_->originals.emplace(key, v).second) return false;  // another lab's, or this lab's, first
    host_->held[key][lab_] = after;  // before the step: a kill after it still knows whose it is
    host_->write(*host_dir_);
  } else if (!originals_.count({netns, key})) {
    originals_.emplace(std::make_pair(netns, key), v);
    save_originals();
    return true;
  } else {
    return false;
  }
  originals_[{netns, key}] = v;
  return true;
}

void LabRecord::note_overwritten(const std::string& netns, const std::map<std::string, std::string>& values) {
  bool grew = false;
  for (const auto& [key, value] : values) grew |= overwritten_.emplace(std::make_pair(netns, key), value).second;
  if (!grew) return;
  if (host_ && netns == kHostNetns) {
    for (const auto& [key, value] : values) host_->overwritten.emplace(key, value);
    host_->write(*host_dir_);
  } else {
    save_originals();
  }
}

void LabRecord::undo() {
  originals_ = at_start_;
  overwritten_ = overwritten_at_start_;
  save_originals();
  if (host_) {
    *host_ = host_at_start_;  // under the host's lock: no other run changed it meanwhile
    host_->write(*host_dir_);
  }
  routes_ = routes_at_start_;
  save_routes(dir_, routes_);
}

void LabRecord::keep_routes(std::set<RouteKey> now) {
  if (now == routes_) return;
  routes_ = std::move(now);
  save_routes(dir_, routes_);
}

void LabRecord::keep_originals(const State& file) {
  bool gone = false;
  std::erase_if(originals_, [&](const auto& o) {
    const auto& [netns, key] = o.first;
    if (host_ && netns == kHostNetns) return false;
    const NamespaceState* ns = file.find(netns);
    bool forget = !ns || !ns->sysctls.count(key);
    gone |= forget;
    return forget;
  });
  if (!gone && !unsaved_) return;
  // What a forwarding key overwrote goes with the last original of its directory.
  auto held = [&](const std::string& netns, std::initializer_list<const char*> keys) {
    return std::any_of(keys.begin(), keys.end(), [&](const char* k) { return originals_.count({netns, k}) > 0; });
  };
  std::erase_if(overwritten_, [&](const auto& o) {
    const auto& [netns, key] = o.first;
    if (host_ && netns == kHostNetns) return false;
    if (key.rfind("net.ipv4.conf.", 0) == 0)
      return !held(netns, {"net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding"});
    return !held(netns, {"net.ipv6.conf.all.forwarding", "net.ipv6.conf.default.forwarding"});
  });
  save_originals();
}

SysctlOriginals LabRecord::originals(const LabDir& dir) { return read_originals(dir, "sysctl-originals"); }

SysctlOriginals LabRecord::overwritten(const LabDir& dir) { return read_originals(dir, "sysctl-overwritten"); }

std::set<RouteKey> LabRecord::routes(const LabDir& dir) {
  std::set<RouteKey> out;
  std::istringstream in(dir.read("routes").value_or(""));
  for (std::string line; std::getline(in, line);) {
    auto f = fields(line);
    auto to = f.size() == 3 ? parse_prefix(f[1]) : std::nullopt;
    if (to) out.insert({f[0], *to, std::strtoll(f[2].c_str(), nullptr, 10)});
  }
  return out;
}

std::map<std::string, std::string> LabRecord::adopted(const LabDir& dir) {
  std::map<std::string, std::string> out;
  std::istringstream in(dir.read("adopted").value_or(""));
  for (std::string line; std::getline(in, line);) {
    auto f = fields(line);
    if (f.size() == 2) out[f[0]] = f[1];
  }
  return out;
}

void LabRecord::keep_adopted(const LabDir& dir, const State& expected) {
  std::string text;
  for (const auto& [name, ns] : expected.namespaces)
    if (ns.adopted && name != kHostNetns) text += name + "\t" + ns.path + "\n";
  if (text == dir.read("adopted").value_or("")) return;
  if (text.empty()) return dir.remove("adopted");
  dir.write("adopted", text);
}

void add_put_backs(State& expected, const std::string& lab, const LabDir& dir, const HostSysctls& host,
                   const LabRecords& records) {
  for (const auto& [name, path] : LabRecord::adopted(dir)) {
    if (expected.find(name) || ::access(path.c_str(), F_OK) != 0) continue;  // gone with its process
    NamespaceState& ns = expected.namespaces[name];
    ns.exists = ns.adopted = true;
    ns.path = path;
    ns.files_only = records.renamed.count(name) > 0;  // the rest is the new name's
  }
  for (const auto& [where, value] : records.originals) {
    auto ns = expected.namespaces.find(where.first);
    if (where.first == kHostNetns || ns == expected.namespaces.end()) continue;
    if (ns->second.sysctls.emplace(where.second, value).second) ns->second.put_backs.insert(where.second);
  }
  host.add_put_backs(expected, lab);
}

}  // namespace topo
