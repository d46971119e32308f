#include "executor/left_behind.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "planner/render_text.h"

namespace topo {
namespace {

// A namespace's state without the links that are not the lab's and the routes through them.
NamespaceState lab_part(NamespaceState ns, const std::string& mark, std::set<std::string>& others) {
  std::set<std::string> gone;
  std::erase_if(ns.links, [&](const LinkState& l) {
    if (l.alias == mark || l.name == "lo") return false;
    gone.insert(l.name);
    return true;
  });
  std::erase_if(ns.routes, [&](const RouteState& r) {
    return std::any_of(gone.begin(), gone.end(), [&](const std::string& l) { return r.through(l); });
  });
  others.insert(gone.begin(), gone.end());
  return ns;
}

// The links of `names` that differ between the two, by name: new, gone or changed.
std::vector<std::string> changed_links(const NamespaceState& before, const NamespaceState& now,
                                       const std::set<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const LinkState* b = before.find_link(name);
    const LinkState* a = now.find_link(name);
    if (!b)
      out.push_back("interface " + name + " is new");
    else if (!a)
      out.push_back("interface " + name + " is gone");
    else if (!(*a == *b))
      out.push_back("interface " + name + " changed");
  }
  return out;
}

// What differs between two reads of one namespace, a line each: what the rollback left.
std::string what_differs(const NamespaceState& was, const NamespaceState& now) {
  std::string out;
  auto line = [&out](const std::string& text) { out += "    " + text + "\n"; };
  if (was.exists != now.exists) line(was.exists ? "the namespace is gone" : "the namespace is new");
  if (was.mark != now.mark) line(fmt::format("its mark '{}' is now '{}'", was.mark, now.mark));
  std::set<std::string> names;
  for (const auto* ns : {&was, &now})
    for (const LinkState& l : ns->links) names.insert(l.name);
  for (const std::string& name : names) {
    const LinkState* b = was.find_link(name);
    const LinkState* a = now.find_link(name);
    if (!a)
      line(fmt::format("{} is gone", describe(*b)));
    else if (!b)
      line(fmt::format("{} is new", describe(*a)));
    else if (!(*a == *b))
      line(fmt::format("{} was {}", describe(*a), describe(*b)));
  }
  for (const RouteState& r : was.routes)
    if (std::find(now.routes.begin(), now.routes.end(), r) == now.routes.end()) line(describe(r) + " is gone");
  for (const RouteState& r : now.routes)
    if (std::find(was.routes.begin(), was.routes.end(), r) == was.routes.end()) line(describe(r) + " is new");
  for (const auto& [key, value] : was.sysctls)
    if (auto n = now.sysctls.find(key); n == now.sysctls.end() || n->second != value)
      line(fmt::format("sysctl {} was {}, is {}", key, value, n == now.sysctls.end() ? "unreadable" : n->second));
  if (was.files != now.files) line("its files in /etc/netns differ");
  if (was.nat != now.nat) {
    const NftTable& t = was.nat ? *was.nat : *now.nat;
    line(fmt::format("nft table inet {} {}", t.name, !now.nat ? "is gone" : !was.nat ? "is new" : "differs"));
  }
  return out;
}

}  // namespace

Differences differences(const State& expected, const State& before, const State& after, const std::string& mark) {
  Differences out;
  for (const auto& [name, ns] : before.namespaces) {
    const NamespaceState* now = after.find(name);
    auto wanted = expected.namespaces.find(name);
    bool adopted = wanted != expected.namespaces.end() && wanted->second.adopted;
    if (now && *now == ns) continue;
    if (adopted && ns.exists && (!now || !now->exists)) {
      out.others += fmt::format("  namespace {} is gone (it is not the lab's: it went with its process)\n", name);
      continue;
    }
    std::set<std::string> others;
    if (!now) {
      out.lab += fmt::format("  namespace {} is gone\n", name);
      continue;
    }
    if (NamespaceState mine = lab_part(*now, mark, others), was = lab_part(ns, mark, others); !(mine == was)) {
      out.lab += fmt::format("  namespace {}:\n{}", name, what_differs(was, mine));
      continue;
    }
    for (const std::string& what : changed_links(ns, *now, others))
      out.others += fmt::format("  namespace {}: {}, not the lab's\n", name, what);
  }
  for (const auto& [name, ns] : after.namespaces)
    if (!before.find(name)) out.lab += fmt::format("  namespace {} is new\n", name);
  return out;
}

}  // namespace topo
