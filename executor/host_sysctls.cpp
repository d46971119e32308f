#include "executor/host_sysctls.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "executor/kernel_error.h"
#include "parser/model.h"

namespace topo {
namespace {

constexpr const char* kFile = "sysctls";
constexpr const char* kPolicy = "policy.forward";  // a pseudo-key: never a net.* name

// The keys whose value 1 makes the host route between its interfaces.
bool forwards(const std::string& key, const std::string& value) {
  return (key == "net.ipv4.ip_forward" || key == "net.ipv4.conf.all.forwarding" ||
          key == "net.ipv6.conf.all.forwarding") &&
         normalize_sysctl(value) != "0";
}

// A machine limit ([host] limits) is held as ">=VALUE": any value from VALUE up does.
constexpr std::string_view kAtLeast = ">=";

// Whether two labs' values of one key can hold together: equal, or limits (">=N") that the
// other's value meets (two limits always can: the higher one is what the kernel gets).
bool agree(std::string_view a, std::string_view b) {
  bool la = a.starts_with(kAtLeast), lb = b.starts_with(kAtLeast);
  if (la && lb) return true;
  if (!la && !lb) return normalize_sysctl(a) == normalize_sysctl(b);
  std::string_view limit = la ? a.substr(kAtLeast.size()) : b.substr(kAtLeast.size());
  auto least = sysctl_number(limit), value = sysctl_number(la ? b : a);
  return least && value && *value >= *least;
}

std::string shown_value(std::string_view v) {
  return v.starts_with(kAtLeast) ? "at least " + std::string(v.substr(kAtLeast.size())) : std::string(v);
}

std::string no_tabs(std::string v) {
  std::replace(v.begin(), v.end(), '\t', ' ');  // the kernel reads either; tabs split fields here
  return v;
}

}  // namespace

bool drops_forwarding(const NamespaceState& ns) {
  if (!ns.nat) return false;
  return std::any_of(ns.nat->chains.begin(), ns.nat->chains.end(),
                     [](const NftChain& c) { return c.hook == "forward" && c.policy == "drop"; });
}

LabDir HostSysctls::dir(bool make, const std::string& root) {
  return make ? LabDir::make(".host", root) : LabDir::find(".host", root);
}

HostSysctls HostSysctls::read(const LabDir& dir) {
  HostSysctls out;
  std::istringstream in(dir.read(kFile).value_or(""));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
    if (f.size() == 3 && f[0] == "original") out.originals[f[1]] = f[2];
    if (f.size() == 3 && f[0] == "overwritten") out.overwritten[f[1]] = f[2];
    if (f.size() == 4 && f[0] == "held") out.held[f[1]][f[2]] = f[3];
  }
  return out;
}

void HostSysctls::write(const LabDir& dir) const {
  std::string text;
  for (const auto& [key, value] : originals) text += "original\t" + key + "\t" + no_tabs(value) + "\n";
  for (const auto& [key, value] : overwritten) text += "overwritten\t" + key + "\t" + no_tabs(value) + "\n";
  for (const auto& [key, labs] : held)
    for (const auto& [lab, value] : labs) text += "held\t" + key + "\t" + lab + "\t" + no_tabs(value) + "\n";
  if (text.empty()) return dir.remove(kFile);
  dir.write(kFile, text);
}

bool HostSysctls::holds(const std::string& lab) const {
  return std::any_of(held.begin(), held.end(), [&](const auto& k) { return k.second.count(lab) > 0; });
}

void HostSysctls::add_put_backs(State& expected, const std::string& lab) const {
  NamespaceState& host = expected.namespaces[std::string(kHostNetns)];
  for (const auto& [key, labs] : held) {
    if (key.rfind("net.", 0) != 0 || labs.size() != 1 || !labs.count(lab) || host.sysctls.count(key)) continue;
    if (auto o = originals.find(key); o != originals.end())
      host.sysctls.emplace(key, o->second), host.put_backs.insert(key);
  }
}

std::vector<Conflict> HostSysctls::conflicts(const State& expected, const std::string& lab) const {
  std::vector<Conflict> out;
  const NamespaceState* host = expected.find(kHostNetns);
  if (!host) return out;
  const std::string where(kHostNetns);
  for (const auto& [key, value] : host->sysctls) {
    auto h = held.find(key);
    if (h == held.end()) continue;
    std::string ours = host->at_least.count(key) ? std::string(kAtLeast) + value : value;
    for (const auto& [other, theirs] : h->second)
      if (other != lab && !agree(ours, theirs))
        out.push_back({where, fmt::format("sysctl {} is {} for lab '{}', which holds it; this lab sets {}", key,
                                          shown_value(theirs), other, shown_value(ours))});
  }
  std::string forwarding;  // this lab's first forwarding key, as "key = value"
  for (const auto& [key, value] : host->sysctls)
    if (forwards(key, value) && forwarding.empty()) forwarding = key + " = " + value;
  bool drops = drops_forwarding(*host);
  for (const auto& [key, labs] : held)
    for (const auto& [other, theirs] : labs) {
      if (other == lab) continue;
      if (drops && forwards(key, theirs))
        out.push_back({where, fmt::format("lab '{}' forwards in host ({} = {}); [host.policy] forward = \"drop\" "
                                          "would drop its traffic",
                                          other, key, theirs)});
      if (key == kPolicy && !forwarding.empty())
        out.push_back({where, fmt::format("lab '{}' drops forwarded traffic in host ([host.policy] forward = "
                                          "\"drop\"); this lab forwards there ({})",
                                          other, forwarding)});
    }
  return out;
}

void HostSysctls::settle(const std::string& lab, const NamespaceState& expected, const NamespaceState* observed) {
  for (auto& [key, labs] : held) labs.erase(lab);
  for (const auto& [key, value] : expected.sysctls) {
    if (!originals.count(key)) {
      if (!observed) continue;
      auto seen = observed->sysctls.find(key);
      if (seen == observed->sysctls.end()) continue;  // unreadable: nothing to put back
      originals[key] = seen->second;
    }
    held[key][lab] = expected.at_least.count(key) ? std::string(kAtLeast) + value : value;
  }
  if (drops_forwarding(expected)) held[kPolicy][lab] = "drop";
  std::erase_if(held, [&](const auto& k) {
    if (!k.second.empty()) return false;
    originals.erase(k.first);
    return true;
  });
  // What the first ip_forward (or conf.all/default.forwarding) overwrote is kept while one of
  // them is held, to be written back with the original of the last of them.
  auto still = [&](std::initializer_list<const char*> keys) {
    return std::any_of(keys.begin(), keys.end(), [&](const char* k) { return held.count(k) > 0; });
  };
  bool v4 = still({"net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding"});
  bool v6 = still({"net.ipv6.conf.all.forwarding", "net.ipv6.conf.default.forwarding"});
  std::erase_if(overwritten, [&](const auto& o) {
    return (!v4 && o.first.rfind("net.ipv4.conf.", 0) == 0) || (!v6 && o.first.rfind("net.ipv6.conf.", 0) == 0);
  });
}

HostLock::HostLock(const LabDir& dir, bool wait, const std::function<void()>& waiting)
    : fd_(dir.open("lock", O_RDWR | O_CREAT)) {
  if (::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0) return;
  if (errno != EWOULDBLOCK || !wait)
    throw KernelError("locking", "the host's shared settings",
                      errno == EWOULDBLOCK ? "another lab's apply or destroy is changing them" : std::strerror(errno),
                      errno);
  if (waiting) waiting();
  while (::flock(fd_.get(), LOCK_EX) != 0)
    if (errno != EINTR) throw KernelError("locking", "the host's shared settings", std::strerror(errno), errno);
}

}  // namespace topo
